/** Percentiles of latency samples, and the shared shape of a load figure. */

/** The `fraction` quantile of `samples` (nearest rank); NaN when there are none. */
export function quantile(samples: readonly number[], fraction: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = Float64Array.from(samples).sort();
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)] ?? sorted[0]!;
}

export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

/** What a load of requests got: counts, rate, and latency of the answered requests, in milliseconds. */
export interface LoadFigure {
  readonly requests: number;
  readonly seconds: number;
  readonly requests_per_sec: number;
  readonly p50_ms: number;
  readonly p99_ms: number;
  /** Answers other than 2xx, and requests that got no answer (socket errors, timeouts). */
  readonly non2xx: number;
  readonly errors: number;
}

export function loadFigure(latencies_ms: readonly number[], seconds: number, non2xx: number, errors: number): LoadFigure {
  return {
    requests: latencies_ms.length,
    seconds,
    requests_per_sec: latencies_ms.length / seconds,
    p50_ms: quantile(latencies_ms, 0.5),
    p99_ms: quantile(latencies_ms, 0.99),
    non2xx,
    errors,
  };
}

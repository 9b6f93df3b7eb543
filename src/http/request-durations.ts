/**
 * How long requests took, by route pattern and status code: a Prometheus histogram with
 * prom-client's default buckets, which the app's prom-client registry writes out like any other.
 *
 * prom-client's own Histogram builds a key string from the labels and looks every bucket up by
 * its bound turned into a property name, on every observation: about 2 us of a 35 us quote
 * (BENCHMARKS.md). Here a request finds its series through two maps and counts into an array;
 * test/http/request-durations.test.ts checks the text is prom-client's Histogram's, byte for byte.
 */
import type { Metric, Registry } from 'prom-client';

/** prom-client's default buckets, in seconds. */
export const DURATION_BUCKET_BOUNDS_S: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface Series {
  readonly route: string;
  readonly status_code: number;
  /** Observations per bucket (not cumulative); the last counts those over every bound. */
  readonly bucket_counts: number[];
  sum: number;
  count: number;
}

/** A sample as prom-client's registry reads it. */
interface Sample {
  readonly metricName: string;
  readonly labels: Readonly<Record<string, string | number>>;
  readonly value: number;
}

export class RequestDurations {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #by_route = new Map<string, Map<number, Series>>();
  /** In the order each first appeared, as prom-client lists them. */
  #series: Series[] = [];

  constructor(options: { readonly name: string; readonly help: string; readonly registry: Registry }) {
    this.name = options.name;
    this.help = options.help;
    // The registry takes any object with a name, a type and get(); its types list only its own classes.
    options.registry.registerMetric(this as unknown as Metric);
  }

  observe(route: string, status_code: number, seconds: number): void {
    if (!Number.isFinite(seconds)) throw new TypeError(`a request duration must be finite, not ${seconds}`);
    const series = this.#seriesOf(route, status_code);
    let bucket = 0;
    while (bucket < DURATION_BUCKET_BOUNDS_S.length && seconds > DURATION_BUCKET_BOUNDS_S[bucket]!) bucket += 1;
    series.bucket_counts[bucket]! += 1;
    series.sum += seconds;
    series.count += 1;
  }

  /** The samples as prom-client's Histogram gives them: cumulative buckets, +Inf, sum, count. */
  async get() {
    const values: Sample[] = [];
    for (const { route, status_code, bucket_counts, sum, count } of this.#series) {
      let cumulative = 0;
      for (const [index, le] of DURATION_BUCKET_BOUNDS_S.entries()) {
        cumulative += bucket_counts[index]!;
        values.push({ metricName: `${this.name}_bucket`, labels: { le, route, status_code }, value: cumulative });
      }
      values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf', route, status_code }, value: count });
      values.push({ metricName: `${this.name}_sum`, labels: { route, status_code }, value: sum });
      values.push({ metricName: `${this.name}_count`, labels: { route, status_code }, value: count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.#by_route.clear();
    this.#series = [];
  }

  #seriesOf(route: string, status_code: number): Series {
    let of_route = this.#by_route.get(route);
    if (of_route === undefined) this.#by_route.set(route, (of_route = new Map()));
    let series = of_route.get(status_code);
    if (series === undefined) {
      series = { route, status_code, bucket_counts: new Array<number>(DURATION_BUCKET_BOUNDS_S.length + 1).fill(0), sum: 0, count: 0 };
      of_route.set(status_code, series);
      this.#series.push(series);
    }
    return series;
  }
}

/**
 * Seconds per call of `run`: calls are timed in batches of at least BATCH_SECS after a warm-up,
 * and the median batch is kept, which a noisy neighbour moves less than the mean.
 */
const WARMUP_SECS = 0.3;
const BATCH_SECS = 0.2;
const BATCHES = 7;

let sink: unknown;

export function measurePerCall(run: () => unknown): number {
  timeFor(run, WARMUP_SECS);
  const perCall: number[] = [];
  for (let batch = 0; batch < BATCHES; batch += 1) perCall.push(timeFor(run, BATCH_SECS));
  perCall.sort((left, right) => left - right);
  return perCall[perCall.length >> 1]!;
}

function timeFor(run: () => unknown, seconds: number): number {
  let calls = 0;
  const started = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < seconds) {
    sink = run();
    calls += 1;
    elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  }
  if (sink === undefined) throw new Error('benchmark result was discarded');
  return elapsed / calls;
}

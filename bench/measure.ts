/**
 * Seconds per call: calls are timed in batches of at least BATCH_SECS after a warm-up, and the
 * median batch is kept, which a noisy neighbour moves less than the mean.
 *
 * Benchmarks take `cycle` distinct inputs in turn. The clock is read once per cycle, so every
 * batch prices each input equally often and the clock's own cost (tens of nanoseconds) is
 * shared by the cycle's calls. An async call is awaited before the next one starts: that prices
 * one request at a time, not throughput under concurrency.
 *
 * These machines also change speed by tens of percent over tens of seconds, with no other
 * process in sight (the host's other guests, presumably). Figures that are compared or
 * subtracted are therefore measured side by side: measureSideBySide takes one batch of each in
 * turn, round after round, so a slow spell falls on all of them alike.
 */
const WARMUP_SECS = 0.3;
const BATCH_SECS = 0.2;
const BATCHES = 7;

/** Something to time: a call, or an async call whose promise is awaited. */
export type Timed = { readonly sync: () => unknown } | { readonly async: () => Promise<unknown> };

let sink: unknown;

export async function measurePerCallAsync(run: () => Promise<unknown>, cycle = 1): Promise<number> {
  const [perCall] = await measureSideBySide([{ async: run }], cycle);
  return perCall!;
}

/**
 * Seconds per call of each subject: each is warmed up, then every round times one batch of each,
 * starting one further along each round, and each subject keeps its median batch.
 */
export async function measureSideBySide(subjects: readonly Timed[], cycle = 1): Promise<number[]> {
  for (const subject of subjects) await timeFor(subject, cycle, WARMUP_SECS);
  const perCall = subjects.map((): number[] => []);
  for (let round = 0; round < BATCHES; round += 1) {
    for (let step = 0; step < subjects.length; step += 1) {
      const index = (round + step) % subjects.length;
      perCall[index]!.push(await timeFor(subjects[index]!, cycle, BATCH_SECS));
    }
  }
  return perCall.map(median);
}

function timeFor(subject: Timed, cycle: number, seconds: number): number | Promise<number> {
  return 'sync' in subject ? timeSync(subject.sync, cycle, seconds) : timeAsync(subject.async, cycle, seconds);
}

function timeSync(run: () => unknown, cycle: number, seconds: number): number {
  let calls = 0;
  const started = process.hrtime.bigint();
  let elapsed = 0;
  do {
    for (let call = 0; call < cycle; call += 1) sink = run();
    calls += cycle;
    elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  } while (elapsed < seconds);
  if (sink === undefined) throw new Error('benchmark result was discarded');
  return elapsed / calls;
}

async function timeAsync(run: () => Promise<unknown>, cycle: number, seconds: number): Promise<number> {
  let calls = 0;
  const started = process.hrtime.bigint();
  let elapsed = 0;
  do {
    for (let call = 0; call < cycle; call += 1) sink = await run();
    calls += cycle;
    elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  } while (elapsed < seconds);
  if (sink === undefined) throw new Error('benchmark result was discarded');
  return elapsed / calls;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[sorted.length >> 1]!;
}

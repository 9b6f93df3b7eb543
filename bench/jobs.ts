/**
 * The benchmark's request bodies. They are deterministic (seeded), so runs compare like with
 * like, and distinct from one another, so the figures price jobs as a service sees them rather
 * than one job that the CPU has learnt (a repeated 1024-worker job ran about twice as fast per
 * worker as the same job among others; see BENCHMARKS.md).
 */
import type { QuoteInput, RealtimeDeltaInput, WorkerAssignment } from '../src/policy/index.js';

/** How many distinct jobs of each kind the benchmarks take in turn. */
export const JOBS_IN_TURN = 8;

/** One realtime delta: 8 new completion tokens of a 70 GiB model over `workers` random workers. */
export function deltaInput(workers: number, turn: number): RealtimeDeltaInput {
  const random = seededRandom(workers * JOBS_IN_TURN + turn);
  const total_columns = 8192;
  const assignments: WorkerAssignment[] = [];
  for (let index = 0; index < workers; index += 1) {
    const start = Math.floor(random() * (total_columns - 1));
    const end = start + 1 + Math.floor(random() * (total_columns - start - 1));
    assignments.push({
      worker_id: `worker-${index}`,
      execution_time_ms: 50 + Math.floor(random() * 5000),
      assigned_capacity_units: 1 + Math.floor(random() * 64),
      shard_column_start: start,
      shard_column_end: end,
      available_memory_bytes: 2 ** 30 * (4 + Math.floor(random() * 76)),
    });
  }
  return {
    prompt_tokens: 512,
    frontier_completion_tokens: 136,
    accounted_completion_tokens: 128,
    prompt_credits_accounted: true,
    total_model_bytes: 70 * 2 ** 30,
    total_columns,
    assignments,
  };
}

/** One quote: a prompt, a completion budget and a model of 1 to 200 GiB. */
export function quoteInput(turn: number): QuoteInput {
  const random = seededRandom(0x9e3779b9 + turn);
  return {
    prompt_tokens: 1 + Math.floor(random() * 8192),
    requested_completion_tokens: 1 + Math.floor(random() * 4096),
    total_model_bytes: 2 ** 30 * (1 + Math.floor(random() * 200)),
  };
}

/** mulberry32: a small deterministic generator, so every run prices the same jobs. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
}

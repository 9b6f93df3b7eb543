/**
 * Per-call time of computeRealtimeDelta by worker count, against the original model's figures
 * on this machine kind. Jobs are deterministic (seeded), so runs compare like with like.
 *
 * The headline figure prices JOBS_IN_TURN distinct jobs in turn, as a service sees them. Pricing
 * one job over and over lets the CPU learn it: a 1024-worker job repeated keeps its data in the
 * caches and its branches in the predictor, and runs about twice as fast per worker as the same
 * job among others. Larger jobs are too big to learn, so a repeated job flatters the small sizes
 * only, and would misstate how the cost grows. The repeated figure is printed alongside.
 */
import { computeRealtimeDelta, DEFAULT_POLICY_SETTINGS, type PolicySettings, type RealtimeDeltaInput, type WorkerAssignment } from '../src/policy/index.js';
import { realtimeDeltaJson } from '../src/http/contribution-json.js';
import { measurePerCall } from './measure.js';

/** Per-call time of the original Rust model, measured on this machine kind (microseconds). */
const REFERENCE_US: Readonly<Record<number, number>> = { 8: 0.53, 64: 5.4, 1024: 111, 10_000: 1750, 100_000: 20_500 };
const WORKER_COUNTS = [8, 64, 1024, 10_000, 100_000] as const;
/** Targets apply from this size up: within 5x of the original. */
const TARGET_FROM_WORKERS = 1024;
const TARGET_RATIO_MAX = 5;
const JOBS_IN_TURN = 8;

export interface RealtimeDeltaFigure {
  readonly workers: number;
  /** The call itself, over distinct jobs in turn: what the HTTP layer pays before it writes the response from the columns. */
  readonly per_call_us: number;
  /** The call on one job repeated: the best case, with the job's data and branches learnt by the CPU. */
  readonly repeated_job_us: number;
  /** The call, then reading `contribution.assignments`, which builds one object per worker. */
  readonly with_worker_objects_us: number;
  /** The call, then writing the JSON response body as the HTTP layer does. */
  readonly with_response_body_us: number;
  readonly reference_us: number;
  readonly ratio_to_reference: number;
  readonly ns_per_n_log2_n: number;
  /** Growth of the per-call time from the previous size, over the growth of n log n; null for the first. */
  readonly growth_over_n_log_n: number | null;
  readonly meets_target: boolean | null;
}

export function benchRealtimeDelta(): RealtimeDeltaFigure[] {
  const settings: PolicySettings = { ...DEFAULT_POLICY_SETTINGS, max_assignments: 100_000 };
  const figures: RealtimeDeltaFigure[] = [];
  for (const workers of WORKER_COUNTS) {
    const jobs = Array.from({ length: JOBS_IN_TURN }, (_, turn) => deltaInput(workers, turn));
    let turn = 0;
    const nextJob = (): RealtimeDeltaInput => jobs[(turn += 1) % JOBS_IN_TURN]!;
    const per_call_us = measurePerCall(() => computeRealtimeDelta(nextJob(), settings)) * 1e6;
    const repeated_job_us = measurePerCall(() => computeRealtimeDelta(jobs[0]!, settings)) * 1e6;
    const with_worker_objects_us = measurePerCall(() => computeRealtimeDelta(nextJob(), settings)?.contribution.assignments) * 1e6;
    const with_response_body_us = measurePerCall(() => realtimeDeltaJson(computeRealtimeDelta(nextJob(), settings)!)) * 1e6;
    const reference_us = REFERENCE_US[workers]!;
    const ratio_to_reference = per_call_us / reference_us;
    const previous = figures.at(-1);
    figures.push({
      workers,
      per_call_us,
      repeated_job_us,
      with_worker_objects_us,
      with_response_body_us,
      reference_us,
      ratio_to_reference,
      ns_per_n_log2_n: (per_call_us * 1000) / nLogN(workers),
      growth_over_n_log_n: previous === undefined ? null : per_call_us / previous.per_call_us / (nLogN(workers) / nLogN(previous.workers)),
      meets_target: workers >= TARGET_FROM_WORKERS ? ratio_to_reference <= TARGET_RATIO_MAX : null,
    });
  }
  return figures;
}

function nLogN(workers: number): number {
  return workers * Math.log2(workers);
}

function deltaInput(workers: number, turn: number): RealtimeDeltaInput {
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

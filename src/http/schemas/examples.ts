/**
 * The worked example of the original model's README: a 64 GiB model split over a fast Metal
 * worker and a slow CPU worker. Request examples are these bodies; response examples are what
 * the policy computes for them under the active policy, so the documentation cannot drift from
 * the service.
 */
import type { ContributionInput, PolicySettings, QuoteInput, RealtimeDeltaInput, SettleInput, WorkerAssignment } from '../../policy/index.js';

const MODEL_BYTES_64_GIB = 68_719_476_736;

export const EXAMPLE_ASSIGNMENTS: readonly WorkerAssignment[] = [
  {
    worker_id: 'fast-metal',
    execution_time_ms: 300,
    assigned_capacity_units: 8,
    shard_column_start: 0,
    shard_column_end: 4096,
    available_memory_bytes: 25_769_803_776,
  },
  {
    worker_id: 'slow-cpu',
    execution_time_ms: 900,
    assigned_capacity_units: 4,
    shard_column_start: 4096,
    shard_column_end: 8192,
    available_memory_bytes: 17_179_869_184,
  },
];

/** The job's id in every example: its whole life, from quote to settlement. */
const JOB_ID = 'job-42';

/** Reserves 256 completion tokens; the submitter's budget of 700 credits would afford 222. */
export const QUOTE_EXAMPLE: QuoteInput = {
  prompt_tokens: 128,
  requested_completion_tokens: 256,
  total_model_bytes: MODEL_BYTES_64_GIB,
  budget_credits: '700',
};

/** Settles 180 tokens, of which the stream burned 160 and the prompt, against the reservation of 256. */
export const SETTLE_EXAMPLE: SettleInput = {
  prompt_tokens: 128,
  actual_completion_tokens: 180,
  total_model_bytes: MODEL_BYTES_64_GIB,
  reserved_completion_tokens: 256,
  accounted_completion_tokens: 160,
  prompt_credits_accounted: true,
  total_columns: 8192,
  assignments: EXAMPLE_ASSIGNMENTS,
  job_id: JOB_ID,
};

export const CONTRIBUTION_EXAMPLE: ContributionInput = {
  prompt_tokens: 128,
  completion_tokens: 180,
  total_model_bytes: MODEL_BYTES_64_GIB,
  total_columns: 8192,
  assignments: EXAMPLE_ASSIGNMENTS,
};

export const REALTIME_DELTA_EXAMPLE: RealtimeDeltaInput = {
  prompt_tokens: 128,
  frontier_completion_tokens: 32,
  accounted_completion_tokens: 24,
  prompt_credits_accounted: true,
  total_model_bytes: MODEL_BYTES_64_GIB,
  total_columns: 8192,
  assignments: EXAMPLE_ASSIGNMENTS,
  reserved_completion_tokens: 256,
  job_id: JOB_ID,
};

/**
 * The settings the examples are priced under: the active ones, except that a deployment whose
 * jobs hold fewer workers than the example still shows what the example would earn.
 */
export function exampleSettings(settings: PolicySettings): PolicySettings {
  return { ...settings, max_assignments: Math.max(settings.max_assignments, EXAMPLE_ASSIGNMENTS.length) };
}

/** Two updates of the worked example in one batch: 8 new tokens, then the same frontier again, with nothing new (204). */
export const REALTIME_DELTA_BATCH_EXAMPLE: { readonly updates: readonly RealtimeDeltaInput[] } = {
  updates: [REALTIME_DELTA_EXAMPLE, { ...REALTIME_DELTA_EXAMPLE, accounted_completion_tokens: REALTIME_DELTA_EXAMPLE.frontier_completion_tokens }],
};

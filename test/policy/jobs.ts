/**
 * Shared by the policy tests: generators of valid jobs, the checks every split of credits must
 * pass, made against independent computations, and the check that an input is refused.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import {
  DEFAULT_POLICY_PARAMETERS,
  DEFAULT_POLICY_SETTINGS,
  PolicyInputError,
  SAFE_INTEGER_MAX,
  settingsProblems,
  UINT32_MAX,
  type Contribution,
  type ContributionInput,
  type PolicyParameters,
  type PolicySettings,
  type WorkerAssignment,
} from '../../src/policy/index.js';
import { creditPattern, creditUnits, Exact, oracleTokenUnits, sumCreditUnits } from '../support/credits.js';

export const GIB = 2 ** 30;

/** The part of a job that decides how credits are split among its workers. */
export interface JobShape {
  readonly total_model_bytes: number;
  readonly total_columns: number;
  readonly assignments: readonly WorkerAssignment[];
}

/** The default settings with other parameters, checked to be settings the configuration accepts. */
export function validSettings(parameters: PolicyParameters): PolicySettings {
  const settings = { ...DEFAULT_POLICY_SETTINGS, parameters };
  expect(settingsProblems(settings)).toEqual([]);
  return settings;
}

export function assignment(worker_id: string, fields: Omit<WorkerAssignment, 'worker_id'>): WorkerAssignment {
  return { worker_id, ...fields };
}

/**
 * The model as lib.rs states it, in plain doubles and with naive sums in input order: an
 * independent check of every ratio. The constants come from `parameters`, the floor of the
 * reference rate included (the model's f64::EPSILON by default). The model's other floors cannot
 * bind for valid input (model-floors.test.ts shows why); model-parity.test.ts writes them out.
 */
export function modelFields(job: JobShape, parameters: PolicyParameters = DEFAULT_POLICY_PARAMETERS) {
  const rows = job.assignments.map((item) => {
    const fraction = (item.shard_column_end - item.shard_column_start) / job.total_columns;
    const computeUnits = item.assigned_capacity_units * fraction;
    const rate = computeUnits / Math.max(item.execution_time_ms / 1000, parameters.min_execution_time_secs);
    const pressure = Math.min(1, Math.max(0, (job.total_model_bytes * fraction) / item.available_memory_bytes));
    return { computeUnits, rate, pressure };
  });
  const computeTotal = rows.reduce((sum, row) => sum + row.computeUnits, 0);
  const rates = rows.map((row) => row.rate).sort((left, right) => left - right);
  const middle = rates.length >> 1;
  const median = rates.length % 2 === 1 ? rates[middle]! : (rates[middle - 1]! + rates[middle]!) / 2;
  const reference = Math.max(median, parameters.reference_service_rate_min);
  const weighted = rows.map((row) => {
    const share = row.computeUnits / computeTotal;
    const throughput = Math.min(parameters.throughput_multiplier_max, Math.max(parameters.throughput_multiplier_min, row.rate / reference));
    const resource = parameters.resource_multiplier_base + parameters.resource_multiplier_span * row.pressure;
    return { share, throughput, resource, weight: share * throughput * resource };
  });
  const weightTotal = weighted.reduce((sum, row) => sum + row.weight, 0);
  return rows.map((row, index) => ({
    compute_share: weighted[index]!.share,
    throughput_multiplier: weighted[index]!.throughput,
    resource_pressure_multiplier: weighted[index]!.resource,
    normalized_contribution_share: weighted[index]!.weight / weightTotal,
    measured_service_rate: row.rate,
    reference_service_rate: reference,
    memory_pressure: row.pressure,
  }));
}

/** Relative agreement to 1e-12: the code sums exactly where the model above sums naively. */
export function expectClose(actual: number, expected: number, what: string): void {
  const tolerance = 1e-12 * Math.max(Math.abs(expected), 1e-300);
  if (!(Math.abs(actual - expected) <= tolerance)) expect.fail(`${what}: ${actual} is not within 1e-12 of ${expected}`);
}

/**
 * Everything a split of `budget` units must satisfy: the budget string, worker order, credit
 * strings of exactly `scale` fraction digits summing exactly to the budget, the model's ratios,
 * and every credit within a unit (plus float error) of budget * normalized share.
 */
export function expectSoundSplit(
  job: JobShape,
  result: Contribution,
  budget: bigint,
  scale = 9,
  parameters: PolicyParameters = DEFAULT_POLICY_PARAMETERS,
): void {
  expect(result.policy_version).toBe(parameters.version);
  expect(creditUnits(result.job_credit_budget, scale)).toBe(budget);
  expect(result.assignments.map((item) => item.worker_id)).toEqual(job.assignments.map((item) => item.worker_id));
  for (const item of result.assignments) expect(item.credits).toMatch(creditPattern(scale));
  expect(sumCreditUnits(result.assignments.map((item) => item.credits), scale)).toBe(budget);
  const model = modelFields(job, parameters);
  const slack = new Exact(1).plus(new Exact(budget.toString()).div(2 ** 50));
  result.assignments.forEach((item, index) => {
    const expected = model[index]!;
    for (const field of Object.keys(expected) as (keyof typeof expected)[]) {
      expectClose(item[field], expected[field], `/assignments/${index}/${field}`);
    }
    expect(item.throughput_multiplier).toBeGreaterThanOrEqual(parameters.throughput_multiplier_min);
    expect(item.throughput_multiplier).toBeLessThanOrEqual(parameters.throughput_multiplier_max);
    expect(item.reference_service_rate).toBeGreaterThanOrEqual(parameters.reference_service_rate_min);
    expect(item.memory_pressure).toBeGreaterThanOrEqual(0);
    expect(item.memory_pressure).toBeLessThanOrEqual(1);
    const ideal = new Exact(budget.toString()).times(item.normalized_contribution_share);
    expect(ideal.minus(creditUnits(item.credits, scale).toString()).abs().lt(slack)).toBe(true);
  });
}

/** A contribution's budget is C(prompt) + C(completion), by the decimal oracle. */
export function expectSoundContribution(input: ContributionInput, result: Contribution): void {
  const budget = oracleTokenUnits(input.prompt_tokens, input.total_model_bytes) + oracleTokenUnits(input.completion_tokens, input.total_model_bytes);
  expectSoundSplit(input, result, budget);
}

export const modelBytes = fc.oneof(
  fc.integer({ min: 0, max: 32 * GIB }),
  fc.integer({ min: 32 * GIB, max: 2048 * GIB }),
  fc.integer({ min: 0, max: SAFE_INTEGER_MAX }),
);
export const executionTime = fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 10_000_000 }));
export const memory = fc.oneof(fc.integer({ min: 1, max: 64 * GIB }), fc.integer({ min: 1, max: SAFE_INTEGER_MAX }));
/** Capacity units: the model's u32, 1..2^32 - 1, with both ends drawn often. */
export const capacity = fc.oneof(fc.integer({ min: 1, max: 1_000_000 }), fc.constantFrom(1, UINT32_MAX), fc.integer({ min: 1, max: UINT32_MAX }));

/** Assignments with shards inside `total_columns`, named w0, w1, ... in order. */
export function assignmentsIn(total_columns: number, options: { minLength?: number; maxLength?: number } = {}): fc.Arbitrary<WorkerAssignment[]> {
  const shard = fc.oneof(
    fc.constant([0, total_columns] as const),
    fc.integer({ min: 0, max: total_columns - 1 }).chain((start) => fc.tuple(fc.constant(start), fc.integer({ min: start + 1, max: total_columns }))),
  );
  const one = fc.record({
    execution_time_ms: executionTime,
    assigned_capacity_units: capacity,
    shard,
    available_memory_bytes: memory,
  });
  return fc.array(one, { minLength: options.minLength ?? 1, maxLength: options.maxLength ?? 40 }).map((list) =>
    list.map((item, index) => ({
      worker_id: `w${index}`,
      execution_time_ms: item.execution_time_ms,
      assigned_capacity_units: item.assigned_capacity_units,
      shard_column_start: item.shard[0],
      shard_column_end: item.shard[1],
      available_memory_bytes: item.available_memory_bytes,
    })),
  );
}

/** Job shapes: 1..2^32 - 1 columns (mostly up to 1e6), 1..40 assignments, model bytes up to 2^53 - 1. */
export function jobShapes(options: { maxAssignments?: number } = {}): fc.Arbitrary<JobShape> {
  const columns = fc.oneof(
    { arbitrary: fc.integer({ min: 1, max: 1_000_000 }), weight: 4 },
    { arbitrary: fc.constantFrom(1, UINT32_MAX), weight: 1 },
    { arbitrary: fc.integer({ min: 1, max: UINT32_MAX }), weight: 1 },
  );
  return columns.chain((total_columns) =>
    fc.record({
      total_model_bytes: modelBytes,
      total_columns: fc.constant(total_columns),
      assignments: assignmentsIn(total_columns, { maxLength: options.maxAssignments ?? 40 }),
    }),
  );
}

/** Valid contribution inputs: a job shape with 0..1e6 prompt and completion tokens, at least one in all. */
export function jobs(options: { maxAssignments?: number } = {}): fc.Arbitrary<ContributionInput> {
  return fc
    .tuple(jobShapes(options), fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 0, max: 1_000_000 }))
    .map(([shape, prompt_tokens, completion_tokens]) => ({
      ...shape,
      prompt_tokens,
      completion_tokens: prompt_tokens + completion_tokens === 0 ? 1 : completion_tokens,
    }));
}

/** Runs `call`, demands a PolicyInputError, and returns it for inspection. */
export function rejection(call: () => unknown): PolicyInputError {
  let caught: unknown;
  try {
    call();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(PolicyInputError);
  return caught as PolicyInputError;
}

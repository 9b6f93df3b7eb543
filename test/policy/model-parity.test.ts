/**
 * Parity with the original model at the edges of the valid input: huge and tiny execution times,
 * one-column shards of the largest models, the extreme capacities, memories and model sizes,
 * near-tied workers, and the floor of the reference rate binding and not. The model is written
 * out below as a direct float64 transcription of lib.rs `compute_credit_policy` and
 * `compute_realtime_accounting_delta`, every floor included, and each result must agree with it
 * under the published tolerance |a - e| <= 1e-8 + 1e-9 |e| (and every ratio, stricter, to a
 * relative 1e-12), with credits that sum exactly to the budget.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  computeContribution,
  computeRealtimeDelta,
  DEFAULT_POLICY_PARAMETERS,
  PARAMETER_SPECS,
  SAFE_INTEGER_MAX,
  UINT32_MAX,
  type Contribution,
  type ContributionInput,
  type PolicyParameters,
  type RealtimeDeltaInput,
  type WorkerAssignment,
} from '../../src/policy/index.js';
import { creditUnits, oracleTokenUnits, sumCreditUnits } from '../support/credits.js';
import { assignment, expectClose, GIB, validSettings } from './jobs.js';

/** Rust's f64::EPSILON. */
const F64_EPSILON = 2 ** -52;

/** The constants of lib.rs. The floor of the reference rate is the one a policy may set. */
interface ModelConstants {
  readonly model_size_budget_scale_gib: number;
  readonly min_execution_time_secs: number;
  readonly reference_service_rate_floor: number;
  readonly min_throughput_multiplier: number;
  readonly max_throughput_multiplier: number;
  readonly resource_multiplier_base: number;
  readonly resource_multiplier_span: number;
}

/** As lib.rs writes them. */
const LIB_RS: ModelConstants = {
  model_size_budget_scale_gib: 32.0,
  min_execution_time_secs: 0.001,
  reference_service_rate_floor: F64_EPSILON,
  min_throughput_multiplier: 0.5,
  max_throughput_multiplier: 1.5,
  resource_multiplier_base: 0.85,
  resource_multiplier_span: 0.3,
};

/** lib.rs's own constants for the default parameters, else the same formulas with a policy's values. */
function constantsOf(parameters: PolicyParameters): ModelConstants {
  if (parameters === DEFAULT_POLICY_PARAMETERS) return LIB_RS;
  return {
    model_size_budget_scale_gib: parameters.model_size_scale_gib,
    min_execution_time_secs: parameters.min_execution_time_secs,
    reference_service_rate_floor: parameters.reference_service_rate_min,
    min_throughput_multiplier: parameters.throughput_multiplier_min,
    max_throughput_multiplier: parameters.throughput_multiplier_max,
    resource_multiplier_base: parameters.resource_multiplier_base,
    resource_multiplier_span: parameters.resource_multiplier_span,
  };
}

interface ModelWorker {
  readonly worker_id: string;
  readonly credits: number;
  readonly compute_share: number;
  readonly throughput_multiplier: number;
  readonly resource_pressure_multiplier: number;
  readonly normalized_contribution_share: number;
  readonly measured_service_rate: number;
  readonly reference_service_rate: number;
  readonly memory_pressure: number;
}

interface ModelOutput {
  readonly job_credit_budget: number;
  readonly assignments: readonly ModelWorker[];
}

const FLOAT_FIELDS = [
  'compute_share',
  'throughput_multiplier',
  'resource_pressure_multiplier',
  'normalized_contribution_share',
  'measured_service_rate',
  'reference_service_rate',
  'memory_pressure',
] as const;

/** f64::clamp. */
function clamp(value: number, low: number, high: number): number {
  return Math.min(Math.max(value, low), high);
}

/** lib.rs `median`: sort by total order, the mean of the middle two for an even count. */
function modelMedian(values: readonly number[]): number {
  if (values.length === 0) return 0.0;
  const sorted = [...values].sort((left, right) => left - right);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 0 ? (sorted[mid - 1]! + sorted[mid]!) / 2.0 : sorted[mid]!;
}

/** lib.rs `compute_credit_policy`, line by line: u32 saturation, every floor, naive sums in input order. */
function modelCreditPolicy(input: ContributionInput, c: ModelConstants = LIB_RS): ModelOutput {
  if (input.assignments.length === 0) return { job_credit_budget: 0.0, assignments: [] };
  const total_tokens = Math.max(Math.min(input.prompt_tokens + input.completion_tokens, UINT32_MAX), 1);
  const model_size_factor = Math.max(input.total_model_bytes / GIB / c.model_size_budget_scale_gib, 1.0);
  const job_credit_budget = total_tokens * model_size_factor;

  const prepared = input.assignments.map((a) => {
    const shard_columns = Math.max(Math.max(a.shard_column_end - a.shard_column_start, 0), 1);
    const shard_fraction = shard_columns / Math.max(input.total_columns, 1);
    const compute_units = Math.max(a.assigned_capacity_units, 1) * Math.max(shard_fraction, F64_EPSILON);
    const execution_time_secs = Math.max(a.execution_time_ms / 1000.0, c.min_execution_time_secs);
    const service_rate = compute_units / execution_time_secs;
    const estimated_memory_bytes = input.total_model_bytes * shard_fraction;
    const memory_pressure = a.available_memory_bytes === 0 ? 1.0 : clamp(estimated_memory_bytes / a.available_memory_bytes, 0.0, 1.0);
    return { worker_id: a.worker_id, compute_units, service_rate, memory_pressure };
  });

  let compute_sum = 0;
  for (const p of prepared) compute_sum += p.compute_units;
  const total_compute_units = Math.max(compute_sum, F64_EPSILON);
  const reference_service_rate = Math.max(modelMedian(prepared.map((p) => p.service_rate)), c.reference_service_rate_floor);

  const factors = prepared.map((p) => {
    const compute_share = p.compute_units / total_compute_units;
    const throughput_multiplier = clamp(p.service_rate / reference_service_rate, c.min_throughput_multiplier, c.max_throughput_multiplier);
    const resource_pressure_multiplier = c.resource_multiplier_base + c.resource_multiplier_span * p.memory_pressure;
    return { compute_share, throughput_multiplier, resource_pressure_multiplier };
  });
  const adjusted_weights = factors.map((f) => f.compute_share * f.throughput_multiplier * f.resource_pressure_multiplier);
  let weight_sum = 0;
  for (const weight of adjusted_weights) weight_sum += weight;
  const total_adjusted_weight = Math.max(weight_sum, F64_EPSILON);

  const assignments = prepared.map((p, index): ModelWorker => {
    const normalized_contribution_share = adjusted_weights[index]! / total_adjusted_weight;
    return {
      worker_id: p.worker_id,
      credits: job_credit_budget * normalized_contribution_share,
      ...factors[index]!,
      normalized_contribution_share,
      measured_service_rate: p.service_rate,
      reference_service_rate,
      memory_pressure: p.memory_pressure,
    };
  });
  return { job_credit_budget, assignments };
}

interface ModelDelta {
  readonly prompt_tokens_delta: number;
  readonly completion_tokens_delta: number;
  readonly frontier_completion_tokens: number;
  readonly contribution: ModelOutput;
  readonly consumption: { model_size_factor: number; prompt_credits: number; completion_credits: number; total_credits: number };
}

/** lib.rs `compute_realtime_accounting_delta` with its `compute_consumption`. */
function modelRealtimeDelta(input: RealtimeDeltaInput, c: ModelConstants = LIB_RS): ModelDelta | null {
  const prompt_tokens_delta = input.prompt_credits_accounted ? 0 : input.prompt_tokens;
  const completion_tokens_delta = Math.max(input.frontier_completion_tokens - input.accounted_completion_tokens, 0);
  if (prompt_tokens_delta === 0 && completion_tokens_delta === 0) return null;
  const contribution = modelCreditPolicy(
    {
      prompt_tokens: prompt_tokens_delta,
      completion_tokens: completion_tokens_delta,
      total_model_bytes: input.total_model_bytes,
      total_columns: input.total_columns,
      assignments: input.assignments,
    },
    c,
  );
  const model_size_factor = Math.max(input.total_model_bytes / GIB / c.model_size_budget_scale_gib, 1.0);
  const prompt_credits = prompt_tokens_delta * model_size_factor;
  const completion_credits = completion_tokens_delta * model_size_factor;
  return {
    prompt_tokens_delta,
    completion_tokens_delta,
    frontier_completion_tokens: input.frontier_completion_tokens,
    contribution,
    consumption: { model_size_factor, prompt_credits, completion_credits, total_credits: prompt_credits + completion_credits },
  };
}

/** The published tolerance of the reference vectors. */
function expectWithinPublished(actual: number, expected: number, what: string): void {
  if (!(Math.abs(actual - expected) <= 1e-8 + 1e-9 * Math.abs(expected))) {
    expect.fail(`${what}: ${actual} is not within 1e-8 + 1e-9 |e| of the model's ${expected}`);
  }
}

/** Every field of a split against the model; the credits also sum exactly to the budget. */
function expectSplitParity(actual: Contribution, model: ModelOutput, parameters: PolicyParameters, what = 'contribution'): void {
  expect(actual.policy_version).toBe(parameters.version);
  expectWithinPublished(Number(actual.job_credit_budget), model.job_credit_budget, `${what}/job_credit_budget`);
  expect(actual.assignments.map((item) => item.worker_id)).toEqual(model.assignments.map((item) => item.worker_id));
  actual.assignments.forEach((item, index) => {
    const expected = model.assignments[index]!;
    expectWithinPublished(Number(item.credits), expected.credits, `${what}/assignments/${index}/credits`);
    for (const field of FLOAT_FIELDS) {
      expectWithinPublished(item[field], expected[field], `${what}/assignments/${index}/${field}`);
      // The published tolerance says nothing about a rate of 1e-20; the ratios agree far closer.
      expectClose(item[field], expected[field], `${what}/assignments/${index}/${field}`);
    }
  });
  expect(sumCreditUnits(actual.assignments.map((item) => item.credits))).toBe(creditUnits(actual.job_credit_budget));
}

function expectContributionParity(input: ContributionInput, parameters: PolicyParameters = DEFAULT_POLICY_PARAMETERS): Contribution {
  const result = computeContribution(input, validSettings(parameters));
  expectSplitParity(result, modelCreditPolicy(input, constantsOf(parameters)), parameters);
  const price = { model_size_scale_gib: parameters.model_size_scale_gib };
  const budget = oracleTokenUnits(input.prompt_tokens, input.total_model_bytes, price) + oracleTokenUnits(input.completion_tokens, input.total_model_bytes, price);
  expect(creditUnits(result.job_credit_budget)).toBe(budget);
  return result;
}

/** Whether the floor of the reference rate binds for a job: the median measured rate lies below it. */
function floorBinds(input: ContributionInput, parameters: PolicyParameters): boolean {
  const c = constantsOf(parameters);
  const rates = input.assignments.map(
    (a) =>
      (a.assigned_capacity_units * ((a.shard_column_end - a.shard_column_start) / input.total_columns)) /
      Math.max(a.execution_time_ms / 1000, c.min_execution_time_secs),
  );
  return modelMedian(rates) < c.reference_service_rate_floor;
}

const SEEDED = { seed: 20261125 } as const;

// ---- Generators of extreme valid input ------------------------------------------------------

const executionTimes = fc.oneof(
  fc.constantFrom(0, 1, 2, 999, 1000, 1001, 1e9, 2e9, SAFE_INTEGER_MAX - 1, SAFE_INTEGER_MAX),
  fc.integer({ min: 0, max: SAFE_INTEGER_MAX }),
  fc.integer({ min: 0, max: 10_000 }),
  fc.integer({ min: 1e8, max: 1e11 }),
);
const capacities = fc.oneof(fc.constantFrom(1, UINT32_MAX), fc.integer({ min: 1, max: UINT32_MAX }), fc.integer({ min: 1, max: 16 }));
const memories = fc.oneof(fc.constantFrom(1, SAFE_INTEGER_MAX), fc.integer({ min: 1, max: SAFE_INTEGER_MAX }), fc.integer({ min: 1, max: 64 * GIB }));
const modelBytes = fc.oneof(fc.constantFrom(0, 1, 32 * GIB, 32 * GIB + 1, SAFE_INTEGER_MAX), fc.integer({ min: 0, max: SAFE_INTEGER_MAX }));
const totalColumns = fc.oneof(fc.constantFrom(1, 2, UINT32_MAX - 1, UINT32_MAX), fc.integer({ min: 1, max: UINT32_MAX }), fc.integer({ min: 1, max: 64 }));

function shardsIn(total_columns: number): fc.Arbitrary<readonly [number, number]> {
  return fc.oneof(
    fc.integer({ min: 0, max: total_columns - 1 }).map((start) => [start, start + 1] as const),
    fc.constant([total_columns - 1, total_columns] as const),
    fc.constant([0, total_columns] as const),
    fc.integer({ min: 0, max: total_columns - 1 }).chain((start) => fc.tuple(fc.constant(start), fc.integer({ min: start + 1, max: total_columns }))),
  );
}

type Draft = Omit<WorkerAssignment, 'worker_id'>;

function workersIn(total_columns: number, times: fc.Arbitrary<number>, capacity: fc.Arbitrary<number>, shards: fc.Arbitrary<readonly [number, number]>) {
  return fc.array(
    fc.record({ execution_time_ms: times, assigned_capacity_units: capacity, shard: shards, available_memory_bytes: memories }).map(
      ({ shard, ...rest }): Draft => ({ ...rest, shard_column_start: shard[0], shard_column_end: shard[1] }),
    ),
    { minLength: 1, maxLength: 9 },
  );
}

/** Kin of drawn workers, inserted anywhere: identical twins and workers 1 ms faster or slower. */
const kinship = fc.array(fc.record({ from: fc.nat(), at: fc.nat(), step: fc.constantFrom(0, -1, 1) }), { maxLength: 4 });

function withKin(drafts: readonly Draft[], kin: readonly { from: number; at: number; step: number }[]): WorkerAssignment[] {
  const list = [...drafts];
  for (const { from, at, step } of kin) {
    const model = list[from % list.length]!;
    const execution_time_ms = Math.min(Math.max(model.execution_time_ms + step, 0), SAFE_INTEGER_MAX);
    list.splice(at % (list.length + 1), 0, { ...model, execution_time_ms });
  }
  return list.map((draft, index) => ({ worker_id: `w${index}`, ...draft }));
}

/** Anything valid, drawn towards the edges. */
const edgyShapes = totalColumns.chain((total_columns) =>
  fc.record({
    total_model_bytes: modelBytes,
    total_columns: fc.constant(total_columns),
    drafts: workersIn(total_columns, executionTimes, capacities, shardsIn(total_columns)),
    kin: kinship,
  }),
);

/** One-column shards of the largest models run for a long time: the median rate falls about the floor. */
const slowOneColumnShapes = fc.oneof(fc.constant(UINT32_MAX), fc.integer({ min: 2 ** 31, max: UINT32_MAX })).chain((total_columns) =>
  fc.record({
    total_model_bytes: modelBytes,
    total_columns: fc.constant(total_columns),
    drafts: workersIn(
      total_columns,
      fc.oneof(fc.integer({ min: 5e8, max: 4e9 }), fc.integer({ min: 1e9, max: SAFE_INTEGER_MAX })),
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 0, max: total_columns - 1 }).map((start) => [start, start + 1] as const),
    ),
    kin: kinship,
  }),
);

const shapes = fc.oneof(edgyShapes, slowOneColumnShapes).map(({ drafts, kin, ...job }) => ({ ...job, assignments: withKin(drafts, kin) }));

const tokenCounts = fc.oneof(fc.constantFrom(0, 1, UINT32_MAX), fc.integer({ min: 0, max: UINT32_MAX }), fc.integer({ min: 0, max: 1000 }));

function between(name: Exclude<keyof typeof PARAMETER_SPECS, 'model_size_scale_gib'>): fc.Arbitrary<number> {
  const spec = PARAMETER_SPECS[name];
  return fc.oneof(fc.constantFrom(spec.min, spec.default, spec.max), fc.double({ min: spec.min, max: spec.max, noNaN: true }));
}

/** Mostly lib.rs's own constants; else a different floor of the reference rate, or any parameters the table allows. */
const parameterSets: fc.Arbitrary<PolicyParameters> = fc.oneof(
  { arbitrary: fc.constant(DEFAULT_POLICY_PARAMETERS), weight: 6 },
  {
    arbitrary: fc
      .oneof(fc.constantFrom(0, 2 ** -60, 2 ** -40, 1e-20, 1), fc.double({ min: 0, max: 1, noNaN: true }))
      .map((reference_service_rate_min) => ({ ...DEFAULT_POLICY_PARAMETERS, version: 'floor-custom', reference_service_rate_min })),
    weight: 2,
  },
  {
    arbitrary: fc
      .record({
        scaleBytes: fc.oneof(fc.constantFrom(1, 2 ** 52), fc.integer({ min: 1, max: 2 ** 52 })),
        min_execution_time_secs: between('min_execution_time_secs'),
        reference_service_rate_min: between('reference_service_rate_min'),
        throughputs: fc.tuple(between('throughput_multiplier_min'), between('throughput_multiplier_max')),
        resource_multiplier_base: between('resource_multiplier_base'),
        resource_multiplier_span: between('resource_multiplier_span'),
      })
      .map(({ scaleBytes, throughputs, ...rest }) => ({
        version: 'any-allowed',
        model_size_scale_gib: scaleBytes / GIB,
        throughput_multiplier_min: Math.min(...throughputs),
        throughput_multiplier_max: Math.max(...throughputs),
        ...rest,
      })),
    weight: 2,
  },
);

const contributions = fc
  .record({ shape: shapes, prompt: tokenCounts, completion: tokenCounts, parameters: parameterSets })
  .map(({ shape, prompt, completion, parameters }) => {
    const prompt_tokens = prompt;
    const completion_tokens = prompt + completion === 0 ? 1 : Math.min(completion, UINT32_MAX - prompt);
    return { input: { ...shape, prompt_tokens, completion_tokens }, parameters };
  });

const deltas = fc
  .record({
    shape: shapes,
    prompt: tokenCounts,
    frontier: tokenCounts,
    accountedFraction: fc.oneof(fc.constantFrom(0, 1), fc.double({ min: 0, max: 1, noNaN: true })),
    prompt_credits_accounted: fc.boolean(),
    parameters: parameterSets,
  })
  .map(({ shape, prompt, frontier, accountedFraction, prompt_credits_accounted, parameters }) => {
    const frontier_completion_tokens = Math.min(frontier, UINT32_MAX - prompt);
    const accounted_completion_tokens = Math.floor(frontier_completion_tokens * accountedFraction);
    const input: RealtimeDeltaInput = { ...shape, prompt_tokens: prompt, frontier_completion_tokens, accounted_completion_tokens, prompt_credits_accounted };
    return { input, parameters };
  });

// ---- Tests ------------------------------------------------------------------------------------

describe('the transcription of lib.rs', () => {
  it('uses the constants that the default parameters hold', () => {
    expect(constantsOf({ ...DEFAULT_POLICY_PARAMETERS })).toEqual(LIB_RS);
  });
});

describe('model parity: the issue and its kin', () => {
  const issue: ContributionInput = {
    prompt_tokens: 1,
    completion_tokens: 0,
    total_model_bytes: 0,
    total_columns: 10000,
    assignments: [
      assignment('slow', { execution_time_ms: 9007199254740991, assigned_capacity_units: 1, shard_column_start: 0, shard_column_end: 1, available_memory_bytes: 1 }),
      assignment('fast', { execution_time_ms: 900719925474099, assigned_capacity_units: 1, shard_column_start: 1, shard_column_end: 2, available_memory_bytes: 1 }),
    ],
  };

  it('floors the reference rate at 2^-52 for two one-column workers that ran for 285 and 28.5 millennia', () => {
    // Rates 1e-4 / 9.007e12 s = 1.1e-17 and 1e-4 / 9.007e11 s = 1.1e-16: their mean, 6.1e-17, is below 2^-52,
    // so the reference is 2^-52; both multipliers clamp to (or sit at) 0.5 and the equal shards split evenly.
    const result = expectContributionParity(issue);
    const [slow, fast] = result.assignments;
    expect((slow!.measured_service_rate + fast!.measured_service_rate) / 2).toBeLessThan(2 ** -52);
    for (const item of result.assignments) expect(item.reference_service_rate).toBe(2.220446049250313e-16);
    expect(slow!.throughput_multiplier).toBe(0.5);
    expect(fast!.throughput_multiplier).toBeCloseTo(0.5, 12);
    expect(result.job_credit_budget).toBe('1.000000000');
    expect(result.assignments.map((item) => item.credits)).toEqual(['0.500000000', '0.500000000']);
  });

  it('splits the same job 1:3 by the plain median when a policy sets reference_service_rate_min to 0', () => {
    // Without the floor the reference is the mean rate: the multipliers clamp to 0.5 and 1.5.
    const parameters = { ...DEFAULT_POLICY_PARAMETERS, version: 'no-floor', reference_service_rate_min: 0 };
    const result = expectContributionParity(issue, parameters);
    expect(result.policy_version).toBe('no-floor');
    const [slow, fast] = result.assignments;
    expect(slow!.reference_service_rate).toBe((slow!.measured_service_rate + fast!.measured_service_rate) / 2);
    expect(result.assignments.map((item) => item.throughput_multiplier)).toEqual([0.5, 1.5]);
    expect(result.assignments.map((item) => item.credits)).toEqual(['0.250000000', '0.750000000']);
  });

  it('lifts the reference to a policy floor of 1 compute unit per second, and leaves a faster job alone', () => {
    const parameters = { ...DEFAULT_POLICY_PARAMETERS, version: 'floor-one', reference_service_rate_min: 1 };
    const floored = expectContributionParity(issue, parameters);
    expect(floored.assignments.map((item) => item.reference_service_rate)).toEqual([1, 1]);
    expect(floored.assignments.map((item) => item.credits)).toEqual(['0.500000000', '0.500000000']);
    // 4 units on half of 8192 columns in 0.5 s and 1.5 s: rates 4 and 4/3, median 8/3 > 1.
    const quick: ContributionInput = {
      prompt_tokens: 8,
      completion_tokens: 4,
      total_model_bytes: 64 * GIB,
      total_columns: 8192,
      assignments: [
        assignment('a', { execution_time_ms: 500, assigned_capacity_units: 4, shard_column_start: 0, shard_column_end: 4096, available_memory_bytes: 16 * GIB }),
        assignment('b', { execution_time_ms: 1500, assigned_capacity_units: 4, shard_column_start: 4096, shard_column_end: 8192, available_memory_bytes: 16 * GIB }),
      ],
    };
    const free = expectContributionParity(quick, parameters);
    expect(free.assignments[0]!.reference_service_rate).toBe((4 + 4 / 3) / 2);
  });

  it('floors an odd count of one-column shards of a 4294967295-column model at 1e9, 2e9 and 3e9 ms', () => {
    // One column of 2^32 - 1 on one unit: rates 1 / ((2^32 - 1) 1e6 k) for k = 1, 2, 3, about 2.33e-16, 1.16e-16
    // and 7.8e-17. The median, k = 2, is below 2^-52: the multipliers are 2^52 / ((2^32 - 1) 1e6 k), clamped at
    // 0.5 below, instead of the 1.5, 1 and 2/3 of the plain median.
    const job: ContributionInput = {
      prompt_tokens: 3,
      completion_tokens: 4,
      total_model_bytes: SAFE_INTEGER_MAX,
      total_columns: UINT32_MAX,
      assignments: [1, 2, 3].map((k) =>
        assignment(`k${k}`, { execution_time_ms: k * 1e9, assigned_capacity_units: 1, shard_column_start: k * 1000, shard_column_end: k * 1000 + 1, available_memory_bytes: 1 }),
      ),
    };
    const result = expectContributionParity(job);
    expect(result.assignments.map((item) => item.reference_service_rate)).toEqual([2 ** -52, 2 ** -52, 2 ** -52]);
    const multipliers = result.assignments.map((item) => item.throughput_multiplier);
    expect(multipliers[0]).toBeCloseTo(2 ** 52 / (UINT32_MAX * 1e6), 12);
    expect(multipliers[1]).toBeCloseTo(2 ** 52 / (UINT32_MAX * 2e6), 12);
    expect(multipliers[2]).toBe(0.5);
    // (2^53 - 1) bytes / (2^32 - 1) columns on 1 byte of memory: full pressure for all three.
    for (const item of result.assignments) expect(item.memory_pressure).toBe(1);
    const plain = expectContributionParity(job, { ...DEFAULT_POLICY_PARAMETERS, reference_service_rate_min: 0 });
    expect(plain.assignments.map((item) => item.throughput_multiplier)).toEqual([1.5, 1, expect.closeTo(2 / 3, 12)]);
  });

  it('leaves the floor unbound for a single one-column worker of the largest model at 1e9 ms, just above 2^-52', () => {
    const job: ContributionInput = {
      prompt_tokens: 1,
      completion_tokens: 1,
      total_model_bytes: 0,
      total_columns: UINT32_MAX,
      assignments: [assignment('only', { execution_time_ms: 1e9, assigned_capacity_units: 1, shard_column_start: UINT32_MAX - 1, shard_column_end: UINT32_MAX, available_memory_bytes: SAFE_INTEGER_MAX })],
    };
    const [only] = expectContributionParity(job).assignments;
    expect(only!.measured_service_rate).toBeGreaterThan(2 ** -52);
    expect(only!.reference_service_rate).toBe(only!.measured_service_rate);
    expect(only!.throughput_multiplier).toBe(1);
    expect(only!.credits).toBe('2.000000000');
  });

  it('spans the widest valid spread of rates: 2^32 - 1 units on the whole model in 0 ms against one unit on one column for 2^53 - 1 ms', () => {
    const job: ContributionInput = {
      prompt_tokens: UINT32_MAX,
      completion_tokens: 0,
      total_model_bytes: SAFE_INTEGER_MAX,
      total_columns: UINT32_MAX,
      assignments: [
        assignment('giant', { execution_time_ms: 0, assigned_capacity_units: UINT32_MAX, shard_column_start: 0, shard_column_end: UINT32_MAX, available_memory_bytes: SAFE_INTEGER_MAX }),
        assignment('mite', { execution_time_ms: SAFE_INTEGER_MAX, assigned_capacity_units: 1, shard_column_start: 0, shard_column_end: 1, available_memory_bytes: 1 }),
        assignment('mite-twin', { execution_time_ms: SAFE_INTEGER_MAX, assigned_capacity_units: 1, shard_column_start: 0, shard_column_end: 1, available_memory_bytes: 1 }),
      ],
    };
    const result = expectContributionParity(job);
    const [giant, mite, twin] = result.assignments;
    // 4.29e12 against about 2.6e-23 per second, 35 orders of magnitude apart; the median is a mite's rate.
    expect(giant!.measured_service_rate).toBe(UINT32_MAX / 0.001);
    expect(mite!.measured_service_rate).toBeLessThan(3e-23);
    expect(giant!.reference_service_rate).toBe(2 ** -52);
    expect(mite).toStrictEqual({ ...twin!, worker_id: 'mite', credits: mite!.credits });
  });

  it('agrees on a realtime delta of the issue job', () => {
    const input: RealtimeDeltaInput = { ...issue, prompt_tokens: 1, frontier_completion_tokens: 0, accounted_completion_tokens: 0, prompt_credits_accounted: false };
    const result = computeRealtimeDelta(input)!;
    const model = modelRealtimeDelta(input)!;
    expectSplitParity(result.contribution, model.contribution, DEFAULT_POLICY_PARAMETERS, 'contribution');
    expect(result.contribution.assignments.map((item) => item.credits)).toEqual(['0.500000000', '0.500000000']);
  });
});

describe('model parity: seeded properties over extreme valid input', () => {
  it('computeContribution agrees with lib.rs on every field and credit', () => {
    const seen = { floorBinds: 0, floorFree: 0, kin: 0 };
    fc.assert(
      fc.property(contributions, ({ input, parameters }) => {
        if (floorBinds(input, parameters)) seen.floorBinds += 1;
        else seen.floorFree += 1;
        if (new Set(input.assignments.map((a) => JSON.stringify({ ...a, worker_id: '' }))).size < input.assignments.length) seen.kin += 1;
        expectContributionParity(input, parameters);
      }),
      { ...SEEDED, numRuns: 1000 },
    );
    // The seeded draw reaches both regimes of the floor, and identical twins.
    expect(seen.floorBinds).toBeGreaterThan(40);
    expect(seen.floorFree).toBeGreaterThan(40);
    expect(seen.kin).toBeGreaterThan(10);
  });

  it('computeRealtimeDelta agrees with lib.rs on the deltas, the consumption and the split', () => {
    let nothingNew = 0;
    fc.assert(
      fc.property(deltas, ({ input, parameters }) => {
        const result = computeRealtimeDelta(input, validSettings(parameters));
        const model = modelRealtimeDelta(input, constantsOf(parameters));
        if (model === null) {
          nothingNew += 1;
          expect(result).toBeNull();
          return;
        }
        expect(result).not.toBeNull();
        const { contribution, consumption, ...counters } = result!;
        expect(counters).toEqual({
          policy_version: parameters.version,
          prompt_tokens_delta: model.prompt_tokens_delta,
          completion_tokens_delta: model.completion_tokens_delta,
          frontier_completion_tokens: model.frontier_completion_tokens,
        });
        expectSplitParity(contribution, model.contribution, parameters);
        expect(consumption.model_size_factor).toBe(model.consumption.model_size_factor);
        for (const field of ['prompt_credits', 'completion_credits', 'total_credits'] as const) {
          expectWithinPublished(Number(consumption[field]), model.consumption[field], `consumption/${field}`);
        }
        expect(contribution.job_credit_budget).toBe(consumption.total_credits);
      }),
      { ...SEEDED, numRuns: 600 },
    );
    expect(nothingNew).toBeGreaterThan(0);
  });
});

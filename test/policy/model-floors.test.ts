/**
 * The original model floors several values (lib.rs compute_credit_policy). The port keeps only the
 * floor of the reference rate; this file shows, for every other floor, the valid input that comes
 * closest to it and that it still cannot bind, through the real factor functions and
 * computeContribution, and that the floor of the reference rate does bind for some valid input.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ASSIGNMENTS_MAX_DEFAULT,
  computeContribution,
  DEFAULT_POLICY_PARAMETERS,
  INPUT_RANGES,
  PARAMETER_SPECS,
  SAFE_INTEGER_MAX,
  UINT32_MAX,
  type Contribution,
  type ContributionInput,
  type PolicyParameters,
  type WorkerAssignment,
} from '../../src/policy/index.js';
import {
  computeUnits,
  measuredServiceRate,
  memoryPressure,
  referenceServiceRate,
  resourcePressureMultiplier,
  shardFraction,
  throughputMultiplier,
} from '../../src/policy/worker-factors.js';
import { creditUnits, sumCreditUnits } from '../support/credits.js';
import { assignment, expectClose, GIB, jobs, rejection, validSettings } from './jobs.js';

/** Rust's f64::EPSILON, the model's floor. */
const F64_EPSILON = 2 ** -52;

/** One column of the largest model: the smallest shard fraction valid input can have. */
const smallestShard = assignment('smallest', {
  execution_time_ms: SAFE_INTEGER_MAX,
  assigned_capacity_units: 1,
  shard_column_start: UINT32_MAX - 1,
  shard_column_end: UINT32_MAX,
  available_memory_bytes: 1,
});

/** The lowest parameters the table allows for the weight: every multiplier at its smallest. */
const LOWEST_WEIGHT_PARAMETERS: PolicyParameters = {
  ...DEFAULT_POLICY_PARAMETERS,
  version: 'lowest-weights',
  throughput_multiplier_min: PARAMETER_SPECS.throughput_multiplier_min.min,
  throughput_multiplier_max: PARAMETER_SPECS.throughput_multiplier_max.min,
  resource_multiplier_base: PARAMETER_SPECS.resource_multiplier_base.min,
  resource_multiplier_span: PARAMETER_SPECS.resource_multiplier_span.min,
};

/** The compute units of each worker by the real factor functions, and their total as the model sums it. */
function computeTotal(input: ContributionInput): { units: number[]; total: number } {
  const units = input.assignments.map((item) => computeUnits(item, shardFraction(item, input.total_columns)));
  return { units, total: units.reduce((sum, value) => sum + value, 0) };
}

/** The total weight, as the model sums it from a result's own factors. */
function weightTotal(result: Contribution): number {
  const weights = result.assignments.map((item) => item.compute_share * item.throughput_multiplier * item.resource_pressure_multiplier);
  const total = weights.reduce((sum, value) => sum + value, 0);
  // The normalized shares are these weights over this total: the total is the one the split used.
  result.assignments.forEach((item, index) => expectClose(item.normalized_contribution_share, weights[index]! / total, `share ${index}`));
  return total;
}

/** Any parameters the table allows, with a whole-byte model size and throughput_multiplier_min <= max. */
const allowedParameters: fc.Arbitrary<PolicyParameters> = fc
  .record({
    bounds: fc.tuple(
      fc.oneof(fc.constant(PARAMETER_SPECS.throughput_multiplier_min.min), fc.double({ min: PARAMETER_SPECS.throughput_multiplier_min.min, max: PARAMETER_SPECS.throughput_multiplier_min.max, noNaN: true })),
      fc.oneof(fc.constant(PARAMETER_SPECS.throughput_multiplier_max.min), fc.double({ min: PARAMETER_SPECS.throughput_multiplier_max.min, max: PARAMETER_SPECS.throughput_multiplier_max.max, noNaN: true })),
    ),
    resource_multiplier_base: fc.oneof(
      fc.constant(PARAMETER_SPECS.resource_multiplier_base.min),
      fc.double({ min: PARAMETER_SPECS.resource_multiplier_base.min, max: PARAMETER_SPECS.resource_multiplier_base.max, noNaN: true }),
    ),
    resource_multiplier_span: fc.oneof(
      fc.constant(PARAMETER_SPECS.resource_multiplier_span.min),
      fc.double({ min: PARAMETER_SPECS.resource_multiplier_span.min, max: PARAMETER_SPECS.resource_multiplier_span.max, noNaN: true }),
    ),
    reference_service_rate_min: fc.double({ min: PARAMETER_SPECS.reference_service_rate_min.min, max: PARAMETER_SPECS.reference_service_rate_min.max, noNaN: true }),
    min_execution_time_secs: fc.double({ min: PARAMETER_SPECS.min_execution_time_secs.min, max: PARAMETER_SPECS.min_execution_time_secs.max, noNaN: true }),
  })
  .map(({ bounds, ...rest }) => ({
    ...DEFAULT_POLICY_PARAMETERS,
    ...rest,
    throughput_multiplier_min: Math.min(...bounds),
    throughput_multiplier_max: Math.max(...bounds),
  }));

describe('floors of the model that valid input cannot reach', () => {
  it('shard_columns.max(1) and total_columns.max(1): the rules refuse empty shards and zero columns', () => {
    const job: ContributionInput = { prompt_tokens: 1, completion_tokens: 0, total_model_bytes: 0, total_columns: 8, assignments: [{ ...smallestShard, shard_column_start: 0, shard_column_end: 1 }] };
    expect(rejection(() => computeContribution({ ...job, total_columns: 0 })).violations).toEqual([
      { path: '/total_columns', message: `must be an integer from 1 to ${UINT32_MAX}` },
    ]);
    expect(INPUT_RANGES.total_columns.min).toBe(1);
    for (const [start, end] of [[3, 3], [5, 2]] as const) {
      expect(rejection(() => computeContribution({ ...job, assignments: [{ ...smallestShard, shard_column_start: start, shard_column_end: end }] })).violations).toEqual([
        { path: '/assignments/0/shard_column_end', message: `must be greater than shard_column_start (${start})` },
      ]);
    }
    expect(rejection(() => computeContribution({ ...job, assignments: [{ ...smallestShard, shard_column_start: 0, shard_column_end: 0 }] })).violations).toEqual([
      { path: '/assignments/0/shard_column_end', message: `must be an integer from 1 to ${UINT32_MAX}` },
    ]);
  });

  it('capacity.max(1) and memory 0 read as full pressure: the rules refuse zero capacity and zero memory', () => {
    const job: ContributionInput = { prompt_tokens: 1, completion_tokens: 0, total_model_bytes: 0, total_columns: UINT32_MAX, assignments: [smallestShard] };
    expect(rejection(() => computeContribution({ ...job, assignments: [{ ...smallestShard, assigned_capacity_units: 0 }] })).violations).toEqual([
      { path: '/assignments/0/assigned_capacity_units', message: `must be an integer from 1 to ${UINT32_MAX}` },
    ]);
    expect(rejection(() => computeContribution({ ...job, assignments: [{ ...smallestShard, available_memory_bytes: 0 }] })).violations).toEqual([
      { path: '/assignments/0/available_memory_bytes', message: `must be an integer from 1 to ${SAFE_INTEGER_MAX}` },
    ]);
    expect(INPUT_RANGES.assigned_capacity_units.min).toBe(1);
    expect(INPUT_RANGES.available_memory_bytes.min).toBe(1);
    // The least memory, 1 byte, under the largest share of the largest model saturates the pressure, as 0 bytes would.
    expect(memoryPressure({ ...smallestShard, available_memory_bytes: 1 }, SAFE_INTEGER_MAX, 1)).toBe(1);
    expect(memoryPressure({ ...smallestShard, available_memory_bytes: 1 }, 0, 1)).toBe(0);
  });

  it('shard_fraction.max(2^-52): the smallest valid fraction, one column of 2^32 - 1, is 1 / (2^32 - 1), about 2.3e-10', () => {
    const fraction = shardFraction(smallestShard, UINT32_MAX);
    expect(fraction).toBe(1 / UINT32_MAX);
    expect(fraction).toBeGreaterThan(1e5 * F64_EPSILON);
    expect(Math.max(fraction, F64_EPSILON)).toBe(fraction);
    // A smaller fraction needs more columns than the model's u32 holds, which the rules refuse.
    expect(rejection(() => computeContribution({ prompt_tokens: 1, completion_tokens: 0, total_model_bytes: 0, total_columns: UINT32_MAX + 1, assignments: [smallestShard] })).violations).toEqual([
      { path: '/total_columns', message: `must be an integer from 1 to ${UINT32_MAX}` },
    ]);
    const result = computeContribution({ prompt_tokens: 1, completion_tokens: 0, total_model_bytes: 0, total_columns: UINT32_MAX, assignments: [smallestShard] });
    expect(result.assignments[0]!.compute_share).toBe(1);
  });

  it('shard_fraction is at least 1 / (2^32 - 1) for every valid shard', () => {
    const shards = fc.integer({ min: 1, max: UINT32_MAX }).chain((total_columns) =>
      fc.integer({ min: 0, max: total_columns - 1 }).chain((start) =>
        fc.record({ total_columns: fc.constant(total_columns), start: fc.constant(start), end: fc.integer({ min: start + 1, max: total_columns }) }),
      ),
    );
    fc.assert(
      fc.property(shards, ({ total_columns, start, end }) => {
        const fraction = shardFraction({ ...smallestShard, shard_column_start: start, shard_column_end: end }, total_columns);
        expect(fraction).toBeGreaterThanOrEqual(1 / UINT32_MAX);
        expect(fraction).toBeLessThanOrEqual(1);
      }),
    );
  });

  it('total_compute_units.max(2^-52): the total is at least the smallest worker\'s units, 1 / (2^32 - 1)', () => {
    const input: ContributionInput = { prompt_tokens: 1, completion_tokens: 0, total_model_bytes: 0, total_columns: UINT32_MAX, assignments: [smallestShard] };
    const { units, total } = computeTotal(input);
    expect(units).toEqual([1 / UINT32_MAX]);
    expect(total).toBeGreaterThan(1e5 * F64_EPSILON);
    fc.assert(
      fc.property(jobs({ maxAssignments: 12 }), (job) => {
        const { units: each, total: sum } = computeTotal(job);
        for (const value of each) expect(value).toBeGreaterThanOrEqual(1 / UINT32_MAX);
        expect(sum).toBeGreaterThanOrEqual(1 / UINT32_MAX);
        expect(Math.max(sum, F64_EPSILON)).toBe(sum);
        // The result's compute shares are these units over this total.
        computeContribution(job).assignments.forEach((item, index) => expectClose(item.compute_share, each[index]! / sum, `compute_share ${index}`));
      }),
      { numRuns: 50 },
    );
  });

  it('total_adjusted_weight.max(2^-52) under the defaults: the weights sum to at least 0.5 x 0.85', () => {
    fc.assert(
      fc.property(jobs({ maxAssignments: 12 }), (job) => {
        const total = weightTotal(computeContribution(job));
        expect(total).toBeGreaterThanOrEqual(0.5 * 0.85 * (1 - 2 ** -40));
        expect(Math.max(total, F64_EPSILON)).toBe(total);
      }),
      { numRuns: 50 },
    );
  });

  it('total_adjusted_weight.max(2^-52) under the lowest parameters the table allows: the weights sum to 1e-12, far above 2^-52', () => {
    // The clamp's lower bound is throughput_multiplier_min (at most the max), the resource multiplier is at
    // least its base (the span is not negative), and the compute shares sum to 1.
    const bound = PARAMETER_SPECS.throughput_multiplier_min.min * PARAMETER_SPECS.resource_multiplier_base.min;
    expect(PARAMETER_SPECS.throughput_multiplier_max.min).toBeGreaterThanOrEqual(PARAMETER_SPECS.throughput_multiplier_min.min);
    expect(PARAMETER_SPECS.resource_multiplier_span.min).toBeGreaterThanOrEqual(0);
    expect(bound).toBeCloseTo(1e-12, 24);
    expect(bound).toBeGreaterThan(1000 * F64_EPSILON);
    // Every factor at its floor, through the real functions.
    expect(throughputMultiplier(0, 1, LOWEST_WEIGHT_PARAMETERS)).toBe(PARAMETER_SPECS.throughput_multiplier_min.min);
    expect(throughputMultiplier(1e300, 1, LOWEST_WEIGHT_PARAMETERS)).toBe(PARAMETER_SPECS.throughput_multiplier_max.min);
    expect(resourcePressureMultiplier(1, LOWEST_WEIGHT_PARAMETERS)).toBe(PARAMETER_SPECS.resource_multiplier_base.min);
    // A full job of workers on wildly different shares, and the result's own weights.
    const settings = validSettings(LOWEST_WEIGHT_PARAMETERS);
    const input: ContributionInput = {
      prompt_tokens: 7,
      completion_tokens: 0,
      total_model_bytes: SAFE_INTEGER_MAX,
      total_columns: UINT32_MAX,
      assignments: Array.from({ length: settings.max_assignments }, (_, index) =>
        assignment(`w${index}`, {
          execution_time_ms: index * 997,
          assigned_capacity_units: index % 3 === 0 ? UINT32_MAX : 1 + index,
          shard_column_start: index,
          shard_column_end: index % 5 === 0 ? UINT32_MAX : index + 1,
          available_memory_bytes: 1 + index * GIB,
        }),
      ),
    };
    expect(input.assignments).toHaveLength(ASSIGNMENTS_MAX_DEFAULT);
    const result = computeContribution(input, settings);
    const total = weightTotal(result);
    expect(total).toBeGreaterThanOrEqual(bound * (1 - ASSIGNMENTS_MAX_DEFAULT * 2 ** -52));
    expect(Math.max(total, F64_EPSILON)).toBe(total);
    // Every multiplier is the same, so the split follows the compute shares.
    result.assignments.forEach((item, index) => expectClose(item.normalized_contribution_share, item.compute_share, `share ${index}`));
    expect(sumCreditUnits(result.assignments.map((item) => item.credits))).toBe(creditUnits(result.job_credit_budget));
  });

  it('total_adjusted_weight.max(2^-52) under any parameters the table allows: at least throughput_multiplier_min x resource_multiplier_base', () => {
    fc.assert(
      fc.property(jobs({ maxAssignments: 12 }), allowedParameters, (job, parameters) => {
        const result = computeContribution(job, validSettings(parameters));
        for (const item of result.assignments) {
          expect(item.throughput_multiplier).toBeGreaterThanOrEqual(parameters.throughput_multiplier_min);
          expect(item.resource_pressure_multiplier).toBeGreaterThanOrEqual(parameters.resource_multiplier_base);
        }
        const total = weightTotal(result);
        expect(total).toBeGreaterThanOrEqual(parameters.throughput_multiplier_min * parameters.resource_multiplier_base * (1 - 2 ** -40));
        expect(total).toBeGreaterThan(1000 * F64_EPSILON);
      }),
      { numRuns: 50 },
    );
  });
});

describe('the floor of the reference rate, which valid input does reach', () => {
  /** Two of the slowest workers: one column of the largest model on one unit for 2^53 - 1 ms. */
  const slowest: ContributionInput = {
    prompt_tokens: 10,
    completion_tokens: 0,
    total_model_bytes: 0,
    total_columns: UINT32_MAX,
    assignments: [smallestShard, { ...smallestShard, worker_id: 'twice-as-fast', execution_time_ms: Math.floor(SAFE_INTEGER_MAX / 2) }],
  };

  it('measures rates down to about 2.6e-23, far below 2^-52, and floors the reference at 2^-52', () => {
    const lowest = measuredServiceRate(smallestShard, computeUnits(smallestShard, shardFraction(smallestShard, UINT32_MAX)), DEFAULT_POLICY_PARAMETERS);
    expect(lowest).toBeCloseTo(1 / UINT32_MAX / (SAFE_INTEGER_MAX / 1000), 35);
    expect(lowest).toBeLessThan(2.6e-23);
    expect(lowest).toBeGreaterThan(2.5e-23);
    expect(referenceServiceRate(lowest, DEFAULT_POLICY_PARAMETERS)).toBe(F64_EPSILON);
    expect(referenceServiceRate(1e-15, DEFAULT_POLICY_PARAMETERS)).toBe(1e-15);
  });

  it('binds in computeContribution, and changes the credits against a policy without the floor', () => {
    const floored = computeContribution(slowest);
    const [slow, fast] = floored.assignments;
    expect((slow!.measured_service_rate + fast!.measured_service_rate) / 2).toBeLessThan(F64_EPSILON);
    expect(floored.assignments.map((item) => item.reference_service_rate)).toEqual([F64_EPSILON, F64_EPSILON]);
    // Both rates are far below the floor: both multipliers clamp to 0.5 and the equal shards split evenly.
    expect(floored.assignments.map((item) => item.throughput_multiplier)).toEqual([0.5, 0.5]);
    expect(floored.assignments.map((item) => item.credits)).toEqual(['5.000000000', '5.000000000']);
    // Without the floor the reference is the mean of the two rates, 3/2 of the slower: multipliers 2/3 and 4/3.
    const plain = computeContribution(slowest, validSettings({ ...DEFAULT_POLICY_PARAMETERS, reference_service_rate_min: 0 }));
    expect(plain.assignments[0]!.reference_service_rate).toBe((slow!.measured_service_rate + fast!.measured_service_rate) / 2);
    expect(plain.assignments[0]!.throughput_multiplier).toBeCloseTo(2 / 3, 9);
    expect(plain.assignments[1]!.throughput_multiplier).toBeCloseTo(4 / 3, 9);
    expect(creditUnits(plain.assignments[1]!.credits)).toBeGreaterThan(creditUnits(plain.assignments[0]!.credits));
  });

  it('leaves every ratio finite with the floor at 0, since the smallest valid median is still positive', () => {
    const plain = computeContribution(slowest, validSettings({ ...DEFAULT_POLICY_PARAMETERS, reference_service_rate_min: 0 }));
    for (const item of plain.assignments) {
      expect(item.reference_service_rate).toBeGreaterThan(0);
      for (const value of [item.throughput_multiplier, item.normalized_contribution_share, item.measured_service_rate]) expect(Number.isFinite(value)).toBe(true);
    }
  });

  it('binds exactly when the median measured rate lies below reference_service_rate_min', () => {
    const oneColumn = fc.record({
      times: fc.array(fc.integer({ min: 1e8, max: SAFE_INTEGER_MAX }), { minLength: 1, maxLength: 7 }),
      capacity: fc.integer({ min: 1, max: 8 }),
      floor: fc.oneof(fc.constant(F64_EPSILON), fc.double({ min: 0, max: 1e-12, noNaN: true })),
    });
    fc.assert(
      fc.property(oneColumn, ({ times, capacity, floor }) => {
        const assignments: WorkerAssignment[] = times.map((execution_time_ms, index) => ({
          ...smallestShard,
          worker_id: `w${index}`,
          execution_time_ms,
          assigned_capacity_units: capacity,
          shard_column_start: index,
          shard_column_end: index + 1,
        }));
        const parameters = { ...DEFAULT_POLICY_PARAMETERS, reference_service_rate_min: floor };
        const result = computeContribution({ prompt_tokens: 1, completion_tokens: 0, total_model_bytes: 0, total_columns: UINT32_MAX, assignments }, validSettings(parameters));
        const rates = result.assignments.map((item) => item.measured_service_rate).sort((left, right) => left - right);
        const middle = rates.length >> 1;
        const median = rates.length % 2 === 1 ? rates[middle]! : (rates[middle - 1]! + rates[middle]!) / 2;
        expect(result.assignments[0]!.reference_service_rate).toBe(median < floor ? floor : median);
      }),
    );
  });
});

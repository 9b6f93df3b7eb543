/**
 * Results are plain owned data: ordinary arrays of ordinary objects that share nothing with the
 * input, copy, serialize and freeze like any other value.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  computeContribution,
  computeRealtimeDelta,
  type Contribution,
  type ContributionInput,
  type RealtimeDeltaInput,
  type WorkerAssignment,
  type WorkerCredit,
} from '../../src/policy/index.js';
import { assignment, GIB, jobs } from './jobs.js';

/** A mutable copy of an input's assignments, for the caller to change after the call. */
function mutableAssignments(assignments: readonly WorkerAssignment[]): { -readonly [Key in keyof WorkerAssignment]: WorkerAssignment[Key] }[] {
  return assignments.map((item) => ({ ...item }));
}

const job: ContributionInput = {
  prompt_tokens: 8,
  completion_tokens: 4,
  total_model_bytes: 64 * GIB,
  total_columns: 8192,
  assignments: [
    assignment('fast-metal', { execution_time_ms: 300, assigned_capacity_units: 8, shard_column_start: 0, shard_column_end: 4096, available_memory_bytes: 24 * GIB }),
    assignment('slow-cpu', { execution_time_ms: 900, assigned_capacity_units: 4, shard_column_start: 4096, shard_column_end: 8192, available_memory_bytes: 16 * GIB }),
    assignment('middle', { execution_time_ms: 600, assigned_capacity_units: 2, shard_column_start: 0, shard_column_end: 8192, available_memory_bytes: 80 * GIB }),
  ],
};

/** Renames every worker, changes every number, then empties the list: nothing of it may reach a result. */
function vandalize(assignments: ReturnType<typeof mutableAssignments>): void {
  for (const item of assignments) {
    item.worker_id = `renamed-${item.worker_id}`;
    item.execution_time_ms += 12_345;
    item.assigned_capacity_units = 1;
    item.shard_column_end = item.shard_column_start + 1;
    item.available_memory_bytes = 1;
  }
  assignments.splice(0, assignments.length);
}

function expectPlainWorker(item: WorkerCredit): void {
  expect(Object.getPrototypeOf(item)).toBe(Object.prototype);
  expect(Object.getOwnPropertySymbols(item)).toEqual([]);
  for (const key of Object.keys(item)) {
    const descriptor = Object.getOwnPropertyDescriptor(item, key)!;
    expect(descriptor).toHaveProperty('value');
    expect(descriptor.get).toBeUndefined();
    expect(descriptor.set).toBeUndefined();
    expect(descriptor.enumerable).toBe(true);
  }
  expect(Object.keys(item).sort()).toEqual(
    [
      'compute_share',
      'credits',
      'memory_pressure',
      'measured_service_rate',
      'normalized_contribution_share',
      'reference_service_rate',
      'resource_pressure_multiplier',
      'throughput_multiplier',
      'worker_id',
    ].sort(),
  );
}

function expectPlainContribution(result: Contribution): void {
  expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
  expect(Object.getOwnPropertySymbols(result)).toEqual([]);
  const descriptor = Object.getOwnPropertyDescriptor(result, 'assignments')!;
  expect(descriptor).toHaveProperty('value');
  expect(descriptor.get).toBeUndefined();
  expect(descriptor.set).toBeUndefined();
  expect(Array.isArray(result.assignments)).toBe(true);
  expect(Object.getPrototypeOf(result.assignments)).toBe(Array.prototype);
  expect(Object.getOwnPropertySymbols(result.assignments)).toEqual([]);
  // Every read is the same array.
  expect(result.assignments).toBe(result.assignments);
  result.assignments.forEach(expectPlainWorker);
}

describe('computeContribution returns plain owned data', () => {
  it('keeps its result when the caller renames, rewrites and empties the input assignments afterwards', () => {
    const assignments = mutableAssignments(job.assignments);
    const result = computeContribution({ ...job, assignments });
    const snapshot = structuredClone(result);
    vandalize(assignments);
    expect(assignments).toEqual([]);
    expect(result).toStrictEqual(snapshot);
    expect(result.assignments.map((item) => item.worker_id)).toEqual(['fast-metal', 'slow-cpu', 'middle']);
  });

  it('holds an ordinary array of ordinary objects with data properties only', () => {
    expectPlainContribution(computeContribution(job));
  });

  it('deep-equals its JSON round trip, its structured clone and its spread copies', () => {
    const result = computeContribution(job);
    expect(JSON.parse(JSON.stringify(result))).toStrictEqual(result);
    expect(structuredClone(result)).toStrictEqual(result);
    expect({ ...result, assignments: result.assignments.map((item) => ({ ...item })) }).toStrictEqual(result);
    expect({ ...result }).toStrictEqual(result);
  });

  it('reads the same array on every read once frozen, with the same content', () => {
    const result = computeContribution(job);
    const snapshot = structuredClone(result);
    const before = result.assignments;
    Object.freeze(result);
    Object.freeze(result.assignments);
    result.assignments.forEach((item) => Object.freeze(item));
    expect(result.assignments).toBe(before);
    expect(result.assignments).toBe(result.assignments);
    expect(result).toStrictEqual(snapshot);
    expect(JSON.parse(JSON.stringify(result))).toStrictEqual(snapshot);
  });

  it('gives each call its own result: changing one leaves the next alone', () => {
    const first = computeContribution(job);
    first.assignments.splice(0, 1);
    (first.assignments[0] as { credits: string }).credits = 'spent';
    const second = computeContribution(job);
    expect(second.assignments).toHaveLength(3);
    expect(second.assignments.every((item) => item.credits !== 'spent')).toBe(true);
  });

  it('never shares anything with its input, whatever the job', () => {
    fc.assert(
      fc.property(jobs({ maxAssignments: 12 }), (input) => {
        const assignments = mutableAssignments(input.assignments);
        const result = computeContribution({ ...input, assignments });
        const snapshot = structuredClone(result);
        vandalize(assignments);
        expect(result).toStrictEqual(snapshot);
        expectPlainContribution(result);
        expect(JSON.parse(JSON.stringify(result))).toStrictEqual(result);
      }),
      { numRuns: 50 },
    );
  });
});

describe('computeRealtimeDelta returns plain owned data', () => {
  const delta: Omit<RealtimeDeltaInput, 'assignments'> = {
    prompt_tokens: 8,
    frontier_completion_tokens: 6,
    accounted_completion_tokens: 3,
    prompt_credits_accounted: false,
    total_model_bytes: 64 * GIB,
    total_columns: 8192,
  };

  it('keeps its result when the caller renames, rewrites and empties the input assignments afterwards', () => {
    const assignments = mutableAssignments(job.assignments);
    const result = computeRealtimeDelta({ ...delta, assignments })!;
    expect(result).not.toBeNull();
    const snapshot = structuredClone(result);
    vandalize(assignments);
    expect(result).toStrictEqual(snapshot);
    expect(result.contribution.assignments.map((item) => item.worker_id)).toEqual(['fast-metal', 'slow-cpu', 'middle']);
  });

  it('holds plain objects throughout, which copy, serialize and freeze like any value', () => {
    const result = computeRealtimeDelta({ ...delta, assignments: job.assignments })!;
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    expect(Object.getOwnPropertySymbols(result)).toEqual([]);
    for (const key of Object.keys(result)) expect(Object.getOwnPropertyDescriptor(result, key)).toHaveProperty('value');
    expectPlainContribution(result.contribution);
    expect(JSON.parse(JSON.stringify(result))).toStrictEqual(result);
    expect(structuredClone(result)).toStrictEqual(result);
    expect({ ...result, contribution: { ...result.contribution }, consumption: { ...result.consumption } }).toStrictEqual(result);
    const array = result.contribution.assignments;
    Object.freeze(result.contribution);
    expect(result.contribution.assignments).toBe(array);
    expect(result.contribution.assignments).toBe(result.contribution.assignments);
  });
});

import { describe, expect, it } from 'vitest';
import {
  computeContribution,
  computeRealtimeDelta,
  DEFAULT_POLICY_SETTINGS,
  type PolicyInputError,
  quoteConsumption,
  settleConsumption,
  type ContributionInput,
  type PolicySettings,
  type PolicyViolation,
  type RealtimeDeltaInput,
  type WorkerAssignment,
} from '../../src/policy/index.js';
import { rejection } from './jobs.js';

const GIB = 2 ** 30;
const TOKENS = 'must be an integer from 0 to 4294967295';
const BYTES = 'must be an integer from 0 to 9007199254740991';
const POSITIVE_BYTES = 'must be an integer from 1 to 9007199254740991';
const CAPACITY = 'must be an integer from 1 to 4294967295';
const SHARD_START = 'must be an integer from 0 to 4294967294';
const SHARD_END = 'must be an integer from 1 to 4294967295';
const WORKER_ID = 'must be a string of 1 to 256 characters';

const worker: WorkerAssignment = {
  worker_id: 'worker-a',
  execution_time_ms: 500,
  assigned_capacity_units: 4,
  shard_column_start: 0,
  shard_column_end: 4,
  available_memory_bytes: 16 * GIB,
};

const job: ContributionInput = {
  prompt_tokens: 8,
  completion_tokens: 4,
  total_model_bytes: 64 * GIB,
  total_columns: 8,
  assignments: [worker, { ...worker, worker_id: 'worker-b', shard_column_start: 4, shard_column_end: 8 }],
};

const delta: RealtimeDeltaInput = {
  prompt_tokens: 8,
  frontier_completion_tokens: 6,
  accounted_completion_tokens: 3,
  prompt_credits_accounted: true,
  total_model_bytes: 64 * GIB,
  total_columns: 8,
  assignments: job.assignments,
};

function expectViolations(call: () => unknown, violations: PolicyViolation[]): PolicyInputError {
  const error = rejection(call);
  expect(error.violations).toEqual(violations);
  expect(error.violation_count).toBe(violations.length);
  expect(error.name).toBe('PolicyInputError');
  return error;
}

/** Casts a deliberately ill-typed value to the type a call expects, as untyped JSON would arrive. */
function untyped<T>(value: unknown): T {
  return value as T;
}

function contributionWith(assignment: Partial<Record<keyof WorkerAssignment, unknown>>): ContributionInput {
  return { ...job, assignments: [untyped<WorkerAssignment>({ ...worker, ...assignment })] };
}

describe('token counts', () => {
  it.each([
    ['a non-integer', 1.5],
    ['a negative count', -1],
    ['a count above 2^32 - 1', 2 ** 32],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['a numeric string', '12'],
    ['null', null],
  ])('rejects %s', (_label, value) => {
    expectViolations(() => quoteConsumption(untyped({ prompt_tokens: value, requested_completion_tokens: 1, total_model_bytes: 1 })), [
      { path: '/prompt_tokens', message: TOKENS },
    ]);
    expectViolations(() => settleConsumption(untyped({ prompt_tokens: 1, actual_completion_tokens: value, total_model_bytes: 1 })), [
      { path: '/actual_completion_tokens', message: TOKENS },
    ]);
    expectViolations(() => computeContribution(untyped({ ...job, completion_tokens: value })), [
      { path: '/completion_tokens', message: TOKENS },
    ]);
    expectViolations(() => computeRealtimeDelta(untyped({ ...delta, accounted_completion_tokens: value })), [
      { path: '/accounted_completion_tokens', message: TOKENS },
    ]);
  });

  it('accepts the bounds 0 and 2^32 - 1', () => {
    expect(quoteConsumption({ prompt_tokens: 0, requested_completion_tokens: 2 ** 32 - 1, total_model_bytes: 0 }).prompt_credits).toBe(
      '0.000000000',
    );
  });

  it('rejects prompt + completion above 2^32 - 1 on the completion field', () => {
    expectViolations(() => quoteConsumption({ prompt_tokens: 2 ** 31, requested_completion_tokens: 2 ** 31, total_model_bytes: 1 }), [
      { path: '/requested_completion_tokens', message: 'prompt_tokens + requested_completion_tokens must be at most 4294967295' },
    ]);
    expectViolations(() => settleConsumption({ prompt_tokens: 1, actual_completion_tokens: 2 ** 32 - 1, total_model_bytes: 1 }), [
      { path: '/actual_completion_tokens', message: 'prompt_tokens + actual_completion_tokens must be at most 4294967295' },
    ]);
    expectViolations(() => computeContribution({ ...job, prompt_tokens: 2 ** 32 - 1, completion_tokens: 1 }), [
      { path: '/completion_tokens', message: 'prompt_tokens + completion_tokens must be at most 4294967295' },
    ]);
    expectViolations(() => computeRealtimeDelta({ ...delta, prompt_tokens: 2, frontier_completion_tokens: 2 ** 32 - 2 }), [
      { path: '/frontier_completion_tokens', message: 'prompt_tokens + frontier_completion_tokens must be at most 4294967295' },
    ]);
    // Exactly 2^32 - 1 in all is accepted.
    expect(() => settleConsumption({ prompt_tokens: 1, actual_completion_tokens: 2 ** 32 - 2, total_model_bytes: 1 })).not.toThrow();
  });

  it('rejects a contribution of zero tokens, which has nothing to split', () => {
    expectViolations(() => computeContribution({ ...job, prompt_tokens: 0, completion_tokens: 0 }), [
      { path: '/completion_tokens', message: 'prompt_tokens + completion_tokens must be at least 1: a job of zero tokens has nothing to split' },
    ]);
  });

  it('rejects a frontier behind the accounted count', () => {
    expectViolations(() => computeRealtimeDelta({ ...delta, frontier_completion_tokens: 2, accounted_completion_tokens: 3 }), [
      { path: '/frontier_completion_tokens', message: 'must be at least accounted_completion_tokens (3)' },
    ]);
  });

  it('rejects a prompt_credits_accounted that is not a boolean', () => {
    expectViolations(() => computeRealtimeDelta(untyped({ ...delta, prompt_credits_accounted: 'true' })), [
      { path: '/prompt_credits_accounted', message: 'must be true or false' },
    ]);
  });
});

describe('byte counts and columns', () => {
  it.each([
    ['2^53', 2 ** 53],
    ['2^63 as a double', 9223372036854775807],
    ['a negative count', -1],
    ['a non-integer', 0.5],
    ['NaN', Number.NaN],
  ])('rejects total_model_bytes of %s', (_label, value) => {
    expectViolations(() => quoteConsumption({ prompt_tokens: 1, requested_completion_tokens: 1, total_model_bytes: value }), [
      { path: '/total_model_bytes', message: BYTES },
    ]);
  });

  it('accepts total_model_bytes of 2^53 - 1', () => {
    expect(() => quoteConsumption({ prompt_tokens: 1, requested_completion_tokens: 1, total_model_bytes: 2 ** 53 - 1 })).not.toThrow();
  });

  it('rejects total_columns 0 and above 2^32 - 1', () => {
    // With total_columns invalid, the shard ends are not compared against it.
    expectViolations(() => computeContribution({ ...job, total_columns: 0 }), [
      { path: '/total_columns', message: 'must be an integer from 1 to 4294967295' },
    ]);
    expectViolations(() => computeRealtimeDelta({ ...delta, total_columns: 2 ** 32 }), [
      { path: '/total_columns', message: 'must be an integer from 1 to 4294967295' },
    ]);
  });

  it('rejects execution_time_ms past 2^53 - 1 and accepts 0', () => {
    expectViolations(() => computeContribution(contributionWith({ execution_time_ms: 2 ** 53 })), [
      { path: '/assignments/0/execution_time_ms', message: BYTES },
    ]);
    expect(() => computeContribution(contributionWith({ execution_time_ms: 0 }))).not.toThrow();
  });

  it('bounds capacity by the u32 of the model: refuses 2^32 and 2^53 - 1, accepts 2^32 - 1', () => {
    for (const capacity of [2 ** 32, 2 ** 53 - 1]) {
      expectViolations(() => computeContribution(contributionWith({ assigned_capacity_units: capacity })), [
        { path: '/assignments/0/assigned_capacity_units', message: CAPACITY },
      ]);
    }
    expect(computeContribution(contributionWith({ assigned_capacity_units: 2 ** 32 - 1 })).assignments[0]!.compute_share).toBe(1);
  });

  it('rejects zero capacity and zero memory', () => {
    expectViolations(() => computeContribution(contributionWith({ assigned_capacity_units: 0 })), [
      { path: '/assignments/0/assigned_capacity_units', message: CAPACITY },
    ]);
    expectViolations(() => computeContribution(contributionWith({ available_memory_bytes: 0 })), [
      { path: '/assignments/0/available_memory_bytes', message: POSITIVE_BYTES },
    ]);
  });
});

describe('shards', () => {
  it('rejects a shard whose end is not after its start', () => {
    expectViolations(() => computeContribution(contributionWith({ shard_column_start: 5, shard_column_end: 5 })), [
      { path: '/assignments/0/shard_column_end', message: 'must be greater than shard_column_start (5)' },
    ]);
    expectViolations(() => computeContribution(contributionWith({ shard_column_start: 6, shard_column_end: 2 })), [
      { path: '/assignments/0/shard_column_end', message: 'must be greater than shard_column_start (6)' },
    ]);
  });

  it('rejects a shard that ends past total_columns', () => {
    expectViolations(() => computeContribution(contributionWith({ shard_column_start: 0, shard_column_end: 9 })), [
      { path: '/assignments/0/shard_column_end', message: 'must be at most total_columns (8)' },
    ]);
  });

  it('rejects a shard bound that is not an integer in its range', () => {
    expectViolations(() => computeContribution(contributionWith({ shard_column_start: -1, shard_column_end: 1.5 })), [
      { path: '/assignments/0/shard_column_start', message: SHARD_START },
      { path: '/assignments/0/shard_column_end', message: SHARD_END },
    ]);
  });

  it('rejects a shard end of 0 by its range, and a start at 2^32 - 1, where no column is left after it', () => {
    expectViolations(() => computeContribution(contributionWith({ shard_column_start: 0, shard_column_end: 0 })), [
      { path: '/assignments/0/shard_column_end', message: SHARD_END },
    ]);
    const largest = { ...job, total_columns: 2 ** 32 - 1 };
    expectViolations(
      () => computeContribution({ ...largest, assignments: [{ ...worker, shard_column_start: 2 ** 32 - 1, shard_column_end: 2 ** 32 - 1 }] }),
      [{ path: '/assignments/0/shard_column_start', message: SHARD_START }],
    );
    expectViolations(
      () => computeContribution({ ...largest, assignments: [{ ...worker, shard_column_start: 0, shard_column_end: 2 ** 32 }] }),
      [{ path: '/assignments/0/shard_column_end', message: SHARD_END }],
    );
  });

  it('accepts the last column of the largest model, 2^32 - 2 to 2^32 - 1', () => {
    const input = { ...job, total_columns: 2 ** 32 - 1, assignments: [{ ...worker, shard_column_start: 2 ** 32 - 2, shard_column_end: 2 ** 32 - 1 }] };
    expect(computeContribution(input).assignments[0]!.compute_share).toBe(1);
  });

  it('accepts overlapping shards: replicated work is allowed', () => {
    const replicated = { ...job, assignments: [worker, { ...worker, worker_id: 'worker-b' }] };
    expect(computeContribution(replicated).assignments).toHaveLength(2);
  });
});

describe('worker ids', () => {
  it('rejects an empty worker_id and one of 257 characters', () => {
    expectViolations(() => computeContribution(contributionWith({ worker_id: '' })), [
      { path: '/assignments/0/worker_id', message: WORKER_ID },
    ]);
    expectViolations(() => computeContribution(contributionWith({ worker_id: 'x'.repeat(257) })), [
      { path: '/assignments/0/worker_id', message: WORKER_ID },
    ]);
    expectViolations(() => computeContribution(contributionWith({ worker_id: 42 })), [
      { path: '/assignments/0/worker_id', message: WORKER_ID },
    ]);
  });

  it('counts code points: 256 emoji (512 UTF-16 units) pass and 257 fail', () => {
    const emoji = '\u{1F600}';
    expect(emoji.repeat(256)).toHaveLength(512);
    const accepted = computeContribution(contributionWith({ worker_id: emoji.repeat(256) }));
    expect(accepted.assignments[0]!.worker_id).toBe(emoji.repeat(256));
    expect(() => computeContribution(contributionWith({ worker_id: 'x'.repeat(256) }))).not.toThrow();
    expectViolations(() => computeContribution(contributionWith({ worker_id: emoji.repeat(257) })), [
      { path: '/assignments/0/worker_id', message: WORKER_ID },
    ]);
  });
});

describe('assignment lists', () => {
  const EMPTY = { path: '/assignments', message: 'must hold at least one assignment to split the credits among' };

  it('rejects an empty list for a contribution', () => {
    expectViolations(() => computeContribution({ ...job, assignments: [] }), [EMPTY]);
  });

  it('rejects an empty list for a delta with something to account', () => {
    expectViolations(() => computeRealtimeDelta({ ...delta, assignments: [] }), [EMPTY]);
    expectViolations(
      () => computeRealtimeDelta({ ...delta, frontier_completion_tokens: 3, prompt_credits_accounted: false, assignments: [] }),
      [EMPTY],
    );
  });

  it('accepts an empty list for a delta with nothing to account, and returns null', () => {
    expect(computeRealtimeDelta({ ...delta, frontier_completion_tokens: 3, assignments: [] })).toBeNull();
    // An unaccounted prompt of zero tokens is nothing to account either.
    expect(
      computeRealtimeDelta({ ...delta, prompt_tokens: 0, prompt_credits_accounted: false, frontier_completion_tokens: 3, assignments: [] }),
    ).toBeNull();
  });

  it('rejects a list that is not an array', () => {
    expectViolations(() => computeContribution(untyped({ ...job, assignments: { 0: worker } })), [
      { path: '/assignments', message: 'must be a list of worker assignments' },
    ]);
  });

  it('rejects more than max_assignments, without checking each assignment', () => {
    const settings: PolicySettings = { ...DEFAULT_POLICY_SETTINGS, max_assignments: 2 };
    const broken = { ...worker, assigned_capacity_units: 0 };
    expect(computeContribution(job, settings).assignments).toHaveLength(2);
    expectViolations(() => computeContribution({ ...job, assignments: [worker, worker, broken] }, settings), [
      { path: '/assignments', message: 'must hold at most 2 assignments' },
    ]);
    expectViolations(() => computeRealtimeDelta({ ...delta, assignments: [worker, worker, worker] }, settings), [
      { path: '/assignments', message: 'must hold at most 2 assignments' },
    ]);
  });
});

describe('reporting', () => {
  it('reports every broken rule of one input together, in field order', () => {
    const input = untyped<ContributionInput>({
      prompt_tokens: -1,
      completion_tokens: 1.5,
      total_model_bytes: 2 ** 53,
      total_columns: 0,
      assignments: [
        { ...worker, worker_id: '', shard_column_start: 3, shard_column_end: 3 },
        { ...worker, assigned_capacity_units: 0, available_memory_bytes: 0, shard_column_end: 99 },
      ],
    });
    const error = expectViolations(() => computeContribution(input), [
      { path: '/prompt_tokens', message: TOKENS },
      { path: '/completion_tokens', message: TOKENS },
      { path: '/total_model_bytes', message: BYTES },
      { path: '/total_columns', message: 'must be an integer from 1 to 4294967295' },
      { path: '/assignments/0/worker_id', message: WORKER_ID },
      { path: '/assignments/0/shard_column_end', message: 'must be greater than shard_column_start (3)' },
      { path: '/assignments/1/assigned_capacity_units', message: CAPACITY },
      { path: '/assignments/1/available_memory_bytes', message: POSITIVE_BYTES },
    ]);
    expect(error.message).toBe(
      'invalid policy input: /prompt_tokens must be an integer from 0 to 4294967295; ' +
        '/completion_tokens must be an integer from 0 to 4294967295; ' +
        '/total_model_bytes must be an integer from 0 to 9007199254740991; ' +
        '/total_columns must be an integer from 1 to 4294967295; ' +
        '/assignments/0/worker_id must be a string of 1 to 256 characters; and 3 more',
    );
  });

  it('reports a delta frontier behind accounted together with other rules', () => {
    expectViolations(
      () => computeRealtimeDelta({ ...delta, frontier_completion_tokens: 1, accounted_completion_tokens: 2, total_model_bytes: -5 }),
      [
        { path: '/total_model_bytes', message: BYTES },
        { path: '/frontier_completion_tokens', message: 'must be at least accounted_completion_tokens (2)' },
      ],
    );
  });

  it('lists at most 100 violations but counts them all', () => {
    const assignments = Array.from({ length: 150 }, (_, index) => ({ ...worker, worker_id: `w${index}`, assigned_capacity_units: 0 }));
    const error = rejection(() => computeContribution({ ...job, assignments }));
    expect(error.violation_count).toBe(150);
    expect(error.violations).toEqual(
      Array.from({ length: 100 }, (_, index) => ({ path: `/assignments/${index}/assigned_capacity_units`, message: CAPACITY })),
    );
    expect(error.message.endsWith('; and 145 more')).toBe(true);
  });

  it('counts past the cap across different rules', () => {
    const assignments = Array.from({ length: 60 }, () => ({ ...worker, worker_id: '', available_memory_bytes: 0 }));
    const error = rejection(() => computeContribution({ ...job, prompt_tokens: -1, assignments }));
    expect(error.violation_count).toBe(121);
    expect(error.violations).toHaveLength(100);
    expect(error.violations[0]).toEqual({ path: '/prompt_tokens', message: TOKENS });
    expect(error.violations[99]).toEqual({ path: '/assignments/49/worker_id', message: WORKER_ID });
  });
});

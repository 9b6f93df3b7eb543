/** A contribution builds its per-worker objects on first read, yet reads as a plain object. */
import { inspect } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  computeContribution,
  computeRealtimeDelta,
  workerCreditColumnsOf,
  type Contribution,
  type ContributionInput,
  type WorkerCredit,
} from '../../src/policy/index.js';
import { workerCreditsOf } from '../../src/policy/worker-credit-columns.js';
import { assignment, GIB, jobs } from './jobs.js';

const README_JOB: ContributionInput = {
  prompt_tokens: 128,
  completion_tokens: 256,
  total_model_bytes: 64 * GIB,
  total_columns: 8192,
  assignments: [
    assignment('fast-metal', { execution_time_ms: 400, assigned_capacity_units: 4, shard_column_start: 0, shard_column_end: 4096, available_memory_bytes: 24 * GIB }),
    assignment('slow-cpu', { execution_time_ms: 1200, assigned_capacity_units: 4, shard_column_start: 4096, shard_column_end: 8192, available_memory_bytes: 64 * GIB }),
  ],
};

/** The contribution as data, read at once: what every reader must see. */
function plainCopy(contribution: Contribution): unknown {
  return JSON.parse(JSON.stringify(contribution));
}

describe('a contribution read as a plain object', () => {
  it('has the three fields of the wire, in order, on Object.prototype', () => {
    const contribution = computeContribution(README_JOB);
    expect(Object.keys(contribution)).toEqual(['policy_version', 'job_credit_budget', 'assignments']);
    expect(Object.getPrototypeOf(contribution)).toBe(Object.prototype);
    expect(contribution.assignments.map((item) => item.worker_id)).toEqual(['fast-metal', 'slow-cpu']);
  });

  it('gives the same array on every read, held as an ordinary data property once built', () => {
    const contribution = computeContribution(README_JOB);
    const first = contribution.assignments;
    expect(contribution.assignments).toBe(first);
    expect(Object.getOwnPropertyDescriptor(contribution, 'assignments')).toEqual({
      value: first,
      enumerable: true,
      configurable: true,
      writable: true,
    });
  });

  it('spreads, clones and serializes with every worker', () => {
    const contribution = computeContribution(README_JOB);
    const expected = plainCopy(computeContribution(README_JOB));
    expect({ ...computeContribution(README_JOB) }).toEqual(expected);
    expect(structuredClone(contribution)).toEqual(expected);
    expect(plainCopy(contribution)).toEqual(expected);
    expect((expected as { assignments: unknown[] }).assignments).toHaveLength(2);
  });

  it('logs its workers, not an accessor', () => {
    const logged = inspect(computeContribution(README_JOB), { depth: 4 });
    expect(logged).toContain("worker_id: 'fast-metal'");
    expect(logged).toContain("worker_id: 'slow-cpu'");
    expect(logged).not.toContain('Getter');
  });

  it('takes an assignment before its first read, and keeps what it was given', () => {
    const contribution = computeContribution(README_JOB) as { assignments: WorkerCredit[] };
    const replacement: WorkerCredit[] = [];
    contribution.assignments = replacement;
    expect(contribution.assignments).toBe(replacement);
    expect(workerCreditColumnsOf(contribution as Contribution)).toBeUndefined();
  });
});

describe('a frozen contribution', () => {
  it('reads in full on every read, and refuses a new assignment list', () => {
    const expected = plainCopy(computeContribution(README_JOB));
    const frozen = Object.freeze(computeContribution(README_JOB));
    expect(plainCopy(frozen)).toEqual(expected);
    expect(frozen.assignments).toEqual(frozen.assignments);
    expect(frozen.assignments).toHaveLength(2);
    expect(() => {
      (frozen as { assignments: WorkerCredit[] }).assignments = [];
    }).toThrow(TypeError);
    expect(workerCreditColumnsOf(frozen)).toBeDefined();
  });
});

describe('the columns behind a contribution', () => {
  it('say exactly what assignments would, and are let go once assignments are built', () => {
    fc.assert(
      fc.property(jobs(), (job) => {
        const contribution = computeContribution(job);
        const columns = workerCreditColumnsOf(contribution);
        expect(columns).toBeDefined();
        const fromColumns = workerCreditsOf(columns!);
        expect(contribution.assignments).toEqual(fromColumns);
        expect(workerCreditColumnsOf(contribution)).toBeUndefined();
      }),
    );
  });

  it('are absent from objects the policy did not build', () => {
    const plain = { policy_version: 'divy-credit-1', job_credit_budget: '1.000000000', assignments: [] };
    expect(workerCreditColumnsOf(plain)).toBeUndefined();
  });

  it('belong to their call alone: later calls, which reuse scratch space, change nothing', () => {
    fc.assert(
      fc.property(jobs(), jobs(), (first, second) => {
        const expected = plainCopy(computeContribution(first));
        const unread = computeContribution(first);
        computeContribution(second);
        computeRealtimeDelta({
          prompt_tokens: second.prompt_tokens,
          frontier_completion_tokens: second.completion_tokens,
          accounted_completion_tokens: 0,
          prompt_credits_accounted: false,
          total_model_bytes: second.total_model_bytes,
          total_columns: second.total_columns,
          assignments: second.assignments,
        });
        expect(plainCopy(unread)).toEqual(expected);
      }),
    );
  });
});

/** Response bodies written from the policy's columns are exactly what JSON.stringify writes. */
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { contributionJson, realtimeDeltaJson } from '../../src/http/contribution-json.js';
import { contributionOf } from '../../src/policy/contribution-result.js';
import {
  computeContribution,
  computeRealtimeDelta,
  DEFAULT_POLICY_SETTINGS,
  type Contribution,
  type ContributionInput,
  type RealtimeDeltaInput,
  type WorkerCredit,
} from '../../src/policy/index.js';
import { allocateDoubleColumns } from '../../src/policy/worker-credit-columns.js';
import { jobs } from '../policy/jobs.js';
import { postJson } from '../support/http.js';

/** Worker ids that JSON must escape: quotes, backslashes, control characters, lone surrogates. */
const awkwardIds = fc.array(fc.oneof(fc.string({ minLength: 1, maxLength: 8, unit: 'binary' }), fc.constantFrom('"', '\\', '\n', '\u2028', '\ud800')), {
  minLength: 1,
  maxLength: 40,
});

function withIds(job: ContributionInput, ids: readonly string[]): ContributionInput {
  return { ...job, assignments: job.assignments.map((item, index) => ({ ...item, worker_id: ids[index % ids.length]! })) };
}

function deltaOf(job: ContributionInput, accounted: number, promptAccounted: boolean): RealtimeDeltaInput {
  return {
    prompt_tokens: job.prompt_tokens,
    frontier_completion_tokens: job.completion_tokens + accounted,
    accounted_completion_tokens: accounted,
    prompt_credits_accounted: promptAccounted,
    total_model_bytes: job.total_model_bytes,
    total_columns: job.total_columns,
    assignments: job.assignments,
  };
}

describe('contributionJson and realtimeDeltaJson', () => {
  it('write a contribution exactly as JSON.stringify does, escapes and all', () => {
    fc.assert(
      fc.property(jobs(), awkwardIds, (job, ids) => {
        const input = withIds(job, ids);
        expect(contributionJson(computeContribution(input))).toBe(JSON.stringify(computeContribution(input)));
      }),
    );
  });

  it('write a realtime delta exactly as JSON.stringify does', () => {
    fc.assert(
      fc.property(jobs(), fc.nat({ max: 1_000_000 }), fc.boolean(), (job, accounted, promptAccounted) => {
        const input = deltaOf(job, accounted, promptAccounted);
        const written = computeRealtimeDelta(input);
        if (written === null) return;
        expect(realtimeDeltaJson(written)).toBe(JSON.stringify(computeRealtimeDelta(input)));
      }),
    );
  });

  it('write what assignments hold once they were read and changed', () => {
    const contribution = computeContribution(fc.sample(jobs(), { numRuns: 1, seed: 7 })[0]!);
    const changed = contribution.assignments;
    changed[0] = { ...changed[0]!, credits: 'changed' };
    expect(contributionJson(contribution)).toBe(JSON.stringify(contribution));
    expect(contributionJson(contribution)).toContain('"credits":"changed"');
  });

  it('write a frozen contribution from its columns, exactly', () => {
    const job = fc.sample(jobs(), { numRuns: 1, seed: 5 })[0]!;
    const frozen = Object.freeze(computeContribution(job));
    frozen.assignments.forEach((item) => expect(item.worker_id).toMatch(/^w\d+$/));
    expect(contributionJson(frozen)).toBe(JSON.stringify(computeContribution(job)));
  });

  it('write a plain contribution, built by no policy, with JSON.stringify', () => {
    const plain: Contribution = { policy_version: 'divy-credit-1', job_credit_budget: '0.000000000', assignments: [] };
    expect(contributionJson(plain)).toBe('{"policy_version":"divy-credit-1","job_credit_budget":"0.000000000","assignments":[]}');
  });

  it('write a number JSON cannot hold as null, as JSON.stringify does', () => {
    const doubles = allocateDoubleColumns(1);
    doubles.measured_service_rate[0] = Number.POSITIVE_INFINITY;
    doubles.memory_pressure[0] = Number.NaN;
    const columns = {
      ...doubles,
      count: 1,
      credit_scale: 0,
      assignments: [{ worker_id: 'w', execution_time_ms: 0, assigned_capacity_units: 1, shard_column_start: 0, shard_column_end: 1, available_memory_bytes: 1 }],
      credit_units: Float64Array.of(3),
      reference_service_rate: Number.NEGATIVE_INFINITY,
    };
    const written = contributionJson(contributionOf('divy-credit-1', '3', columns));
    const plain = contributionOf('divy-credit-1', '3', columns);
    const expected = JSON.stringify({ ...plain, assignments: plain.assignments as WorkerCredit[] });
    expect(written).toBe(expected);
    expect(written).toContain('"measured_service_rate":null');
  });
});

describe('the routes that carry a contribution', () => {
  let app: FastifyInstance;
  const settings = { ...DEFAULT_POLICY_SETTINGS, max_assignments: 2500 };
  // A job of 2500 workers, more than two blocks of the writer, made of sampled assignments over and over, renamed in order.
  const sampled = fc.sample(jobs({ maxAssignments: 40 }), { numRuns: 50, seed: 11 });
  const pool = sampled.flatMap((item) => item.assignments);
  const job: ContributionInput = {
    ...sampled[0]!,
    total_columns: 1_000_000,
    assignments: Array.from({ length: 2500 }, (_, index) => ({ ...pool[index % pool.length]!, worker_id: `worker-${index}` })),
  };

  beforeAll(async () => {
    app = await buildApp({ settings });
    await app.ready();
  });

  afterAll(async () => {
    await app.close();
  });

  it('answer POST /contribution with the bytes JSON.stringify gives', async () => {
    expect(job.assignments).toHaveLength(2500);
    const response = await postJson(app, '/contribution', job);
    expect(response.statusCode).toBe(200);
    expect(response.body).toBe(JSON.stringify(computeContribution(job, settings)));
  });

  it('answer POST /realtime-delta with the bytes JSON.stringify gives', async () => {
    const input = deltaOf(job, 17, false);
    const response = await postJson(app, '/realtime-delta', input);
    expect(response.statusCode).toBe(200);
    expect(response.body).toBe(JSON.stringify(computeRealtimeDelta(input, settings)));
  });
});

/**
 * Answers are the policy's results written by plain JSON.stringify: for a job of 2500 workers,
 * with worker ids JSON must escape and rates that print in exponent form, the body is byte for
 * byte JSON.stringify of what the policy computes.
 */
import { describe, expect, it } from 'vitest';
import {
  computeContribution,
  computeRealtimeDelta,
  settleConsumption,
  type Contribution,
  type ContributionInput,
  type RealtimeDelta,
  type RealtimeDeltaInput,
  type SettleInput,
  type Settlement,
  type WorkerAssignment,
} from '../../src/policy/index.js';
import { JSON_CONTENT_TYPE, postJson, sumCredits, useApp } from '../support/http.js';

const WORKERS = 2500;
const TOTAL_COLUMNS = 1_000_000;

/**
 * Ids JSON must escape or that are more than one UTF-16 unit per character. No lone surrogate:
 * an id must be well-formed Unicode (test/http/hostile-input.test.ts); NUL stands in for it.
 */
const AWKWARD_IDS = ['quote"d', 'back\\slash', 'new\nline', 'tab\there', 'ctrl\u0001', 'sep\u2028', 'nul\u0000', 'emoji😀', 'é', '</script>'];

/** A small deterministic generator (a 32-bit LCG), so the job is the same on every run. */
function generator(seed: number): (below: number) => number {
  let state = seed >>> 0;
  return (below) => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state % below;
  };
}

function bigJob(): ContributionInput {
  const next = generator(2500);
  const assignments = Array.from({ length: WORKERS }, (_, index): WorkerAssignment => {
    const start = next(TOTAL_COLUMNS - 1);
    const width = 1 + next(Math.min(4096, TOTAL_COLUMNS - start));
    return {
      worker_id: `${AWKWARD_IDS[index % AWKWARD_IDS.length]}-${index}`,
      // Now and then a run so long its rate prints as 1e-10 or so, or none at all (the time floor).
      execution_time_ms: index % 97 === 0 ? 2 ** 53 - 1 : index % 89 === 0 ? 0 : 1 + next(600_000),
      assigned_capacity_units: 1 + next(64),
      shard_column_start: start,
      shard_column_end: start + width,
      available_memory_bytes: 1 + next(2 ** 31) * 64,
    };
  });
  return { prompt_tokens: 4096, completion_tokens: 1234, total_model_bytes: 2 ** 37 + 12_345, total_columns: TOTAL_COLUMNS, assignments };
}

describe('a job of 2500 workers', () => {
  const app = useApp();
  const job = bigJob();
  const JOB_ID = 'job "big"\n😀';

  /** A delta of the job's first tokens, the prompt not yet burned. */
  const deltaInput: RealtimeDeltaInput = {
    prompt_tokens: job.prompt_tokens,
    frontier_completion_tokens: 1251,
    accounted_completion_tokens: 17,
    prompt_credits_accounted: false,
    total_model_bytes: job.total_model_bytes,
    total_columns: job.total_columns,
    assignments: job.assignments,
  };

  /** Posts `input` and asserts a 200 whose body is, byte for byte, JSON.stringify of `result`; returns the parsed body. */
  async function expectStringified<T>(route: string, input: unknown, result: unknown): Promise<T> {
    const response = await postJson(app(), route, input);
    expect(response.statusCode, response.body.slice(0, 500)).toBe(200);
    expect(response.headers['content-type']).toBe(JSON_CONTENT_TYPE);
    const expected = JSON.stringify(result);
    expect(response.body === expected, 'the body differs from JSON.stringify of the result').toBe(true);
    expect(Number(response.headers['content-length'])).toBe(Buffer.byteLength(expected));
    return response.json<T>();
  }

  it('is what the test means it to be', () => {
    expect(job.assignments).toHaveLength(WORKERS);
    const body = JSON.stringify(computeContribution(job));
    for (const escaped of ['\\"', '\\\\', '\\n', '\\t', '\\u0001', '\\u0000']) expect(body, escaped).toContain(escaped);
    expect(body).toMatch(/"measured_service_rate":\d(\.\d+)?e-\d+/);
  });

  it('POST /contribution answers exactly JSON.stringify of the policy\'s contribution', async () => {
    const body = await expectStringified<Contribution>('/contribution', job, computeContribution(job));
    expect(body.assignments.map((worker) => worker.worker_id)).toEqual(job.assignments.map((assignment) => assignment.worker_id));
    expect(sumCredits(body.assignments.map((worker) => worker.credits), 9)).toBe(body.job_credit_budget);
  });

  it('POST /realtime-delta answers exactly JSON.stringify of the policy\'s delta', async () => {
    await expectStringified('/realtime-delta', deltaInput, computeRealtimeDelta(deltaInput));
  });

  it('POST /realtime-delta with a reservation and a job id answers exactly JSON.stringify of the delta, postings included', async () => {
    const input: RealtimeDeltaInput = { ...deltaInput, reserved_completion_tokens: 2048, job_id: JOB_ID };
    const body = await expectStringified<RealtimeDelta>('/realtime-delta', input, computeRealtimeDelta(input));
    // One posting per worker paid, to an account named by its awkward id.
    const paid = body.contribution.assignments.filter((worker) => /[1-9]/.test(worker.credits));
    expect(body.postings!.map((posting) => posting.credit_account)).toEqual(paid.map((worker) => `worker:${worker.worker_id}`));
    expect(new Set(body.postings!.map((posting) => posting.debit_account))).toEqual(new Set([`job:${JOB_ID}:reservation`]));
    expect(sumCredits(body.postings!.map((posting) => posting.amount), 9)).toBe(body.consumption.total_credits);
  });

  it('POST /settle with the reservation, the stream and a job id answers exactly JSON.stringify of the settlement', async () => {
    const input: SettleInput = {
      prompt_tokens: job.prompt_tokens,
      actual_completion_tokens: 1500,
      total_model_bytes: job.total_model_bytes,
      reserved_completion_tokens: 2048,
      accounted_completion_tokens: 1251,
      prompt_credits_accounted: true,
      total_columns: job.total_columns,
      assignments: job.assignments,
      job_id: JOB_ID,
    };
    const body = await expectStringified<Settlement>('/settle', input, settleConsumption(input));
    expect(body.contribution!.assignments).toHaveLength(WORKERS);
    const release = body.postings!.at(-1)!;
    expect(release.credit_account).toBe(`job:${JOB_ID}:submitter`);
    expect(release.amount).toBe(body.reconciliation!.release_credits);
    expect(sumCredits(body.postings!.slice(0, -1).map((posting) => posting.amount), 9)).toBe(body.reconciliation!.final_delta_credits);
  });
});

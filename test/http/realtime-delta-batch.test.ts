/**
 * POST /realtime-delta/batch: each result is what POST /realtime-delta answers for the update
 * sent alone, with the batch's request id in its problem; the batch itself is refused only when
 * its envelope is wrong or holds too many updates, and a bug fails it whole.
 */
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import { BATCH_MAX_UPDATES_DEFAULT } from '../../src/http/limits.js';
import { REALTIME_DELTA_BATCH_EXAMPLE, REALTIME_DELTA_EXAMPLE } from '../../src/http/schemas/examples.js';
import { DEFAULT_POLICY_SETTINGS, type PolicyCatalog, type RealtimeDeltaInput } from '../../src/policy/index.js';
import {
  expectExactProblem,
  ID_HEADER,
  invalidRequest,
  JSON_CONTENT_TYPE,
  MALFORMED_JSON,
  oneViolation,
  PROBLEM_CONTENT_TYPE,
  postJson,
  postRaw,
  REQUEST_ID,
  reservationExceeded,
  INTERNAL_ERROR,
  type ProblemBody,
  useApp,
} from '../support/http.js';

const BATCH = '/realtime-delta/batch';
const NOTHING_NEW: RealtimeDeltaInput = REALTIME_DELTA_BATCH_EXAMPLE.updates[1]!;

type BatchResult = { status: 200; delta: unknown } | { status: 204 } | { status: number; problem: ProblemBody };

/** What POST /realtime-delta answers for `update` sent alone, written as a batch result naming `request_id`. */
async function answeredAlone(app: FastifyInstance, update: unknown, request_id: string): Promise<BatchResult> {
  const response = await postJson(app, '/realtime-delta', update);
  if (response.statusCode === 200) return { status: 200, delta: response.json() };
  if (response.statusCode === 204) {
    expect(response.body).toBe('');
    return { status: 204 };
  }
  expect(response.headers['content-type']).toBe(PROBLEM_CONTENT_TYPE);
  const problem = response.json<ProblemBody>();
  // The single request names its own id; the batch's result must name the batch's instead.
  expect(problem.request_id).toBe(response.headers['x-request-id']);
  return { status: response.statusCode, problem: { ...problem, request_id } };
}

async function postBatch(app: FastifyInstance, updates: readonly unknown[]): Promise<BatchResult[]> {
  const response = await postJson(app, BATCH, { updates }, ID_HEADER);
  expect(response.statusCode, response.body).toBe(200);
  expect(response.headers['content-type']).toBe(JSON_CONTENT_TYPE);
  const { results } = response.json<{ results: BatchResult[] }>();
  expect(results).toHaveLength(updates.length);
  return results;
}

describe('POST /realtime-delta/batch', () => {
  const app = useApp();

  it('answers the documented example with the documented results: a delta, then a 204', async () => {
    const results = await postBatch(app(), REALTIME_DELTA_BATCH_EXAMPLE.updates);
    expect(results).toStrictEqual([{ status: 200, delta: (await answeredAlone(app(), REALTIME_DELTA_EXAMPLE, REQUEST_ID) as { delta: unknown }).delta }, { status: 204 }]);
    const documented = (app().swagger() as { components: { schemas: Record<string, { examples: unknown[] }> } }).components.schemas['RealtimeDeltaBatch']!;
    expect(documented.examples).toStrictEqual([{ results }]);
  });

  it('an empty list answers an empty list of results', async () => {
    expect(await postBatch(app(), [])).toStrictEqual([]);
  });

  it('refuses each bad update in its own result, with the exact problem of the single endpoint and the batch\'s request id', async () => {
    const results = await postBatch(app(), [
      { ...REALTIME_DELTA_EXAMPLE, prompt_tokens: '128', extra: 1 },
      { ...REALTIME_DELTA_EXAMPLE, frontier_completion_tokens: 20 },
      { ...REALTIME_DELTA_EXAMPLE, frontier_completion_tokens: 300 },
      { ...REALTIME_DELTA_EXAMPLE, policy_version: 'divy-credit-0' },
      null,
      REALTIME_DELTA_EXAMPLE,
    ]);
    expect(results.slice(0, 5)).toStrictEqual([
      {
        status: 400,
        problem: invalidRequest({ path: '/prompt_tokens', message: 'must be a number' }, { path: '/extra', message: 'is not a known field' }),
      },
      { status: 422, problem: oneViolation('/frontier_completion_tokens', 'must be at least accounted_completion_tokens (24)') },
      { status: 409, problem: reservationExceeded('frontier_completion_tokens', 256, 44) },
      { status: 422, problem: oneViolation('/policy_version', 'must be one of the versions this service knows: divy-credit-1') },
      { status: 400, problem: invalidRequest({ path: '', message: 'must be an object' }) },
    ]);
    // The refused updates do not fail the one after them.
    expect(results[5]!.status).toBe(200);
  });

  it('keeps the order of the updates', async () => {
    const updates = [40, 32, 56, 48].map((frontier) => ({ ...REALTIME_DELTA_EXAMPLE, frontier_completion_tokens: frontier }));
    const frontiers = (await postBatch(app(), updates)).map((result) => (result as { delta: { frontier_completion_tokens: number } }).delta.frontier_completion_tokens);
    expect(frontiers).toEqual([40, 32, 56, 48]);
  });

  it('ten updates of one job get the delta ids and postings their single requests get', async () => {
    const updates = Array.from({ length: 10 }, (_, step) => ({
      ...REALTIME_DELTA_EXAMPLE,
      accounted_completion_tokens: 8 * step,
      frontier_completion_tokens: 8 * (step + 1),
      prompt_credits_accounted: step > 0,
      job_id: 'job-7',
    }));
    const results = await postBatch(app(), updates);
    const alone = await Promise.all(updates.map((update) => answeredAlone(app(), update, REQUEST_ID)));
    expect(results).toStrictEqual(alone);
    const deltas = results.map((result) => (result as { delta: { delta_id: string; postings: unknown[] } }).delta);
    expect(new Set(deltas.map((delta) => delta.delta_id)).size).toBe(10);
    for (const delta of deltas) expect(delta.postings.length).toBeGreaterThan(0);
  });

  describe('a batch that is not { "updates": [...] } is itself a 400', () => {
    it.each([
      ['updates missing', {}, { path: '/updates', message: 'is required' }],
      ['updates not a list', { updates: { 0: REALTIME_DELTA_EXAMPLE } }, { path: '/updates', message: 'must be a list' }],
      ['updates null', { updates: null }, { path: '/updates', message: 'must be a list' }],
      ['an unknown field beside updates', { updates: [], extra: 1 }, { path: '/extra', message: 'is not a known field' }],
      ['a list of updates without the envelope', [REALTIME_DELTA_EXAMPLE], { path: '', message: 'must be an object' }],
    ])('%s', async (_name, body, error) => {
      const response = await postJson(app(), BATCH, body, ID_HEADER);
      expectExactProblem(response, invalidRequest(error));
    });

    it('malformed JSON', async () => {
      const response = await postRaw(app(), BATCH, '{"updates": [', 'application/json', ID_HEADER);
      expectExactProblem(response, MALFORMED_JSON);
    });
  });

  it(`takes ${BATCH_MAX_UPDATES_DEFAULT} updates by default and refuses one more`, async () => {
    const full = Array.from({ length: BATCH_MAX_UPDATES_DEFAULT }, () => NOTHING_NEW);
    expect(await postBatch(app(), full)).toHaveLength(BATCH_MAX_UPDATES_DEFAULT);
    const response = await postJson(app(), BATCH, { updates: [...full, NOTHING_NEW] }, ID_HEADER);
    expect(response.json<ProblemBody>().errors).toStrictEqual([{ path: '/updates', message: `must hold at most ${BATCH_MAX_UPDATES_DEFAULT} updates` }]);
  });
});

describe('a custom batch_max_updates', () => {
  const LIMIT = 3;
  const app = useApp({ batch_max_updates: LIMIT });

  it('takes exactly the limit', async () => {
    expect(await postBatch(app(), Array.from({ length: LIMIT }, () => REALTIME_DELTA_EXAMPLE))).toHaveLength(LIMIT);
  });

  it('refuses one more as a 422 naming /updates, however good the updates are', async () => {
    const response = await postJson(app(), BATCH, { updates: Array.from({ length: LIMIT + 1 }, () => REALTIME_DELTA_EXAMPLE) }, ID_HEADER);
    expectExactProblem(response, oneViolation('/updates', `must hold at most ${LIMIT} updates`));
  });

  it('documents the limit it enforces', () => {
    const document = app().swagger() as { paths: Record<string, { post: { description: string; requestBody: { content: Record<string, { schema: { properties: Record<string, { maxItems: number }> } }> } } }> };
    const operation = document.paths[BATCH]!.post;
    expect(operation.requestBody.content['application/json']!.schema.properties['updates']!.maxItems).toBe(LIMIT);
    expect(operation.description).toContain(`up to ${LIMIT} updates`);
  });
});

describe('a bug inside one update', () => {
  // A policy the configuration would refuse, built by hand: its fractional credit scale makes
  // the policy fail with a plain error, not a client's mistake.
  const broken = { ...DEFAULT_POLICY_SETTINGS, credit_scale: 0.5, parameters: { ...DEFAULT_POLICY_SETTINGS.parameters, version: 'broken' } };
  const catalog: PolicyCatalog = {
    current: DEFAULT_POLICY_SETTINGS.parameters.version,
    policies: new Map([
      [DEFAULT_POLICY_SETTINGS.parameters.version, DEFAULT_POLICY_SETTINGS],
      ['broken', broken],
    ]),
  };
  const app = useApp({ catalog });

  it('fails the whole batch with a bare 500, not a result', async () => {
    const updates = [REALTIME_DELTA_EXAMPLE, { ...REALTIME_DELTA_EXAMPLE, policy_version: 'broken' }, REALTIME_DELTA_EXAMPLE];
    expect((await postJson(app(), '/realtime-delta', updates[1])).statusCode).toBe(500);
    const response = await postJson(app(), BATCH, { updates }, ID_HEADER);
    expectExactProblem(response, INTERNAL_ERROR);
  });
});

describe('property: every result is what the single endpoint answers for its update', () => {
  const app = useApp();
  const TOTAL_COLUMNS = 256;

  const assignment = fc
    .record({
      worker_id: fc.string({ minLength: 1, maxLength: 8 }),
      execution_time_ms: fc.nat(10_000),
      assigned_capacity_units: fc.integer({ min: 1, max: 64 }),
      shard_column_start: fc.nat(TOTAL_COLUMNS / 2),
      width: fc.integer({ min: 1, max: TOTAL_COLUMNS / 2 }),
      available_memory_bytes: fc.integer({ min: 1, max: 2 ** 40 }),
    })
    .map(({ width, ...rest }) => ({ ...rest, shard_column_end: rest.shard_column_start + width }));

  /** An update with new tokens: always a 200 alone. */
  const valid = fc
    .record({
      prompt_tokens: fc.nat(4096),
      accounted_completion_tokens: fc.nat(1000),
      step: fc.integer({ min: 1, max: 64 }),
      prompt_credits_accounted: fc.boolean(),
      total_model_bytes: fc.integer({ min: 1, max: 2 ** 40 }),
      assignments: fc.array(assignment, { minLength: 1, maxLength: 4 }),
      headroom: fc.option(fc.nat(100), { nil: undefined }),
      job_id: fc.option(fc.constantFrom('job-1', 'job-2'), { nil: undefined }),
    })
    .map(({ step, headroom, ...rest }) => {
      const frontier_completion_tokens = rest.accounted_completion_tokens + step;
      const reserved_completion_tokens = headroom === undefined ? undefined : frontier_completion_tokens + headroom;
      return { ...rest, frontier_completion_tokens, total_columns: TOTAL_COLUMNS, reserved_completion_tokens };
    });

  type Update = fc.Arbitrary<unknown>;
  const KINDS: Record<string, { status: number; update: Update }> = {
    accounted: { status: 200, update: valid },
    nothing_new: {
      status: 204,
      update: valid.map((update) => ({ ...update, frontier_completion_tokens: update.accounted_completion_tokens, prompt_credits_accounted: true, reserved_completion_tokens: undefined })),
    },
    schema_invalid: {
      status: 400,
      update: fc.oneof(
        fc.tuple(valid, fc.subarray(['prompt_tokens', 'prompt_credits_accounted', 'assignments', 'worker_id', 'total_columns', 'extra'] as const, { minLength: 1 })).map(([update, mistakes]) => {
          const broken: Record<string, unknown> = { ...update };
          for (const mistake of mistakes) {
            if (mistake === 'prompt_tokens') broken['prompt_tokens'] = String(update.prompt_tokens);
            if (mistake === 'prompt_credits_accounted') broken['prompt_credits_accounted'] = 'yes';
            if (mistake === 'assignments') broken['assignments'] = {};
            if (mistake === 'worker_id') broken['assignments'] = [{ ...update.assignments[0]!, worker_id: 7 }];
            if (mistake === 'total_columns') delete broken['total_columns'];
            if (mistake === 'extra') broken['a/b~c'] = 0;
          }
          return broken;
        }),
        fc.constantFrom(null, 42, 'update', [], true),
      ),
    },
    rule_violation: {
      status: 422,
      update: fc
        .tuple(valid, fc.constantFrom('frontier_behind', 'shard_past_columns', 'fraction', 'unknown_policy', 'empty_worker_id', 'no_assignments'))
        .map(([update, rule]) => {
          switch (rule) {
            case 'frontier_behind':
              return { ...update, accounted_completion_tokens: update.frontier_completion_tokens + 1 };
            case 'shard_past_columns':
              // Past the end whatever the shard: total_columns 1 would not be, for a one-column shard at 0.
              return { ...update, assignments: [{ ...update.assignments[0]!, shard_column_end: update.total_columns + 1 }] };
            case 'fraction':
              return { ...update, prompt_tokens: update.prompt_tokens + 0.5 };
            case 'unknown_policy':
              return { ...update, policy_version: 'divy-credit-0' };
            case 'empty_worker_id':
              return { ...update, assignments: [{ ...update.assignments[0]!, worker_id: '' }] };
            case 'no_assignments':
              return { ...update, assignments: [] };
          }
        }),
    },
    reservation_exceeded: {
      status: 409,
      update: fc
        .tuple(valid, fc.nat())
        .map(([update, excess]) => ({ ...update, reserved_completion_tokens: update.frontier_completion_tokens - 1 - (excess % update.frontier_completion_tokens) })),
    },
  };
  const kind = fc.constantFrom(...Object.keys(KINDS));
  const tagged = kind.chain((name) => KINDS[name]!.update.map((update) => ({ name, update })));

  it('for random mixes of accounted, 204, schema-invalid, rule-breaking and reservation-exceeding updates', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(tagged, { maxLength: 12 }), async (mix) => {
        const updates = mix.map(({ update }) => update);
        const results = await postBatch(app(), updates);
        for (const [index, { name, update }] of mix.entries()) {
          expect(results[index], `update ${index} (${name})`).toStrictEqual(await answeredAlone(app(), update, REQUEST_ID));
          // The generators make what they claim, so every kind is really exercised.
          expect(results[index]!.status, `update ${index} (${name})`).toBe(KINDS[name]!.status);
        }
      }),
      { numRuns: 60 },
    );
  });
});

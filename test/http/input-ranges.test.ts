/**
 * One table of input ranges: the OpenAPI document publishes exactly INPUT_RANGES for every
 * integer request field, whatever the policy, and the service refuses exactly outside them.
 */
import { describe, expect, it } from 'vitest';
import { CONTRIBUTION_EXAMPLE, QUOTE_EXAMPLE, REALTIME_DELTA_EXAMPLE, SETTLE_EXAMPLE } from '../../src/http/schemas/examples.js';
import {
  DEFAULT_POLICY_PARAMETERS,
  INPUT_RANGES,
  rangeRule,
  type ContributionInput,
  type PolicySettings,
  type RangedField,
} from '../../src/policy/index.js';
import { expectExactProblem, POST_ROUTES, postJson, useApp, type PostRoute } from '../support/http.js';
import { committedDocumentText, properties, requestBody, type OpenApiDocument, type Schema } from '../support/openapi.js';

const REQUEST_ID = 'range-request-1';

const EXAMPLES: Record<PostRoute, object> = {
  '/quote': QUOTE_EXAMPLE,
  '/settle': SETTLE_EXAMPLE,
  '/contribution': CONTRIBUTION_EXAMPLE,
  '/realtime-delta': REALTIME_DELTA_EXAMPLE,
};

/** A policy far from the default, to show the ranges do not follow the policy. */
const CUSTOM: PolicySettings = {
  parameters: { ...DEFAULT_POLICY_PARAMETERS, version: 'ranges-1', model_size_scale_gib: 16, min_execution_time_secs: 0.01 },
  credit_scale: 6,
  max_assignments: 500,
};

function isRanged(name: string): name is RangedField {
  return Object.hasOwn(INPUT_RANGES, name);
}

/** Every integer field of every POST request body, with its JSON Pointer in a request and its schema. */
function integerRequestFields(document: OpenApiDocument): { route: PostRoute; pointer: string; name: string; schema: Schema }[] {
  return POST_ROUTES.flatMap((route) => {
    const fields = properties(document, requestBody(document, route));
    const top = Object.entries(fields).map(([name, schema]) => ({ route, pointer: `/${name}`, name, schema }));
    const assignments = fields['assignments'] === undefined ? [] : Object.entries(properties(document, fields['assignments']['items'] as Schema));
    const nested = assignments.map(([name, schema]) => ({ route, pointer: `/assignments/0/${name}`, name, schema }));
    return [...top, ...nested].filter((field) => field.schema['type'] === 'integer');
  });
}

describe('the ranges the OpenAPI document publishes', () => {
  const defaultApp = useApp();
  const customApp = useApp({ settings: CUSTOM });

  it.each([
    ['openapi/openapi.json', () => Promise.resolve(JSON.parse(committedDocumentText()) as OpenApiDocument)],
    ['the default app', async () => (await defaultApp().inject({ method: 'GET', url: '/docs/json' })).json<OpenApiDocument>()],
    ['an app with a custom policy', async () => (await customApp().inject({ method: 'GET', url: '/docs/json' })).json<OpenApiDocument>()],
  ])('%s: every integer request field has exactly the range of INPUT_RANGES, and every ranged field is published', async (_name, load) => {
    const document = await load();
    const fields = integerRequestFields(document);
    for (const { route, pointer, name, schema } of fields) {
      expect(isRanged(name), `${route} ${pointer} is not in INPUT_RANGES`).toBe(true);
      expect({ minimum: schema['minimum'], maximum: schema['maximum'] }, `${route} ${pointer}`).toStrictEqual({
        minimum: INPUT_RANGES[name as RangedField].min,
        maximum: INPUT_RANGES[name as RangedField].max,
      });
    }
    expect(new Set(fields.map((field) => field.name))).toEqual(new Set(Object.keys(INPUT_RANGES)));
  });

  it('the ranges are the model\'s: u32 counters, and byte counts and times up to 2^53 - 1', () => {
    const u32 = 2 ** 32 - 1;
    const safe = 2 ** 53 - 1;
    expect(INPUT_RANGES).toStrictEqual({
      prompt_tokens: { min: 0, max: u32 },
      completion_tokens: { min: 0, max: u32 },
      requested_completion_tokens: { min: 0, max: u32 },
      actual_completion_tokens: { min: 0, max: u32 },
      frontier_completion_tokens: { min: 0, max: u32 },
      accounted_completion_tokens: { min: 0, max: u32 },
      total_model_bytes: { min: 0, max: safe },
      total_columns: { min: 1, max: u32 },
      execution_time_ms: { min: 0, max: safe },
      assigned_capacity_units: { min: 1, max: u32 },
      shard_column_start: { min: 0, max: u32 - 1 },
      shard_column_end: { min: 1, max: u32 },
      available_memory_bytes: { min: 1, max: safe },
      reserved_completion_tokens: { min: 0, max: u32 },
    });
  });
});

describe('the ranges the service enforces', () => {
  const app = useApp();

  /** Every ranged field of every route's README example, where it sits in the body. */
  const cases = POST_ROUTES.flatMap((route) => {
    const example = EXAMPLES[route];
    const top = Object.keys(example)
      .filter(isRanged)
      .map((name) => ({ route, name, pointer: `/${name}` }));
    const nested = 'assignments' in example ? Object.keys(CONTRIBUTION_EXAMPLE.assignments[0]!).filter(isRanged) : [];
    return [...top, ...nested.map((name) => ({ route, name, pointer: `/assignments/0/${name}` }))];
  });

  function withValue(route: PostRoute, name: RangedField, pointer: string, value: number): Record<string, unknown> {
    const body = structuredClone(EXAMPLES[route]) as Record<string, unknown> & { assignments?: Record<string, unknown>[] };
    if (pointer.startsWith('/assignments/0/')) body.assignments![0]![name] = value;
    else body[name] = value;
    return body;
  }

  it('covers every field of INPUT_RANGES', () => {
    expect(new Set(cases.map(({ name }) => name))).toEqual(new Set(Object.keys(INPUT_RANGES)));
    // quote: 3 fields; settle: 6 (with the reservation, the stream and the columns) and 5 per assignment;
    // contribution: 4 and 5; realtime delta: 6 (with the reservation) and 5.
    expect(cases).toHaveLength(3 + (6 + 5) + (4 + 5) + (6 + 5));
  });

  /** The answer to a value outside the range: exactly one violation, the range rule of the field. */
  async function expectRangeRefusal(route: PostRoute, name: RangedField, pointer: string, value: number): Promise<void> {
    const range = INPUT_RANGES[name];
    const response = await postJson(app(), route, withValue(route, name, pointer, value), { 'x-request-id': REQUEST_ID });
    expectExactProblem(response, {
      type: 'urn:divy:problem:policy-rule-violation',
      title: 'Input breaks a rule of the credit policy',
      status: 422,
      detail: '1 rule violation.',
      request_id: REQUEST_ID,
      errors: [{ path: pointer, message: rangeRule(range) }],
    });
    expect(rangeRule(range)).toBe(`must be an integer from ${range.min} to ${range.max}`);
  }

  it.each(cases)('$route $pointer: one below the minimum, one above the maximum and a fraction are refused with its range', async ({ route, name, pointer }) => {
    const range = INPUT_RANGES[name as RangedField];
    for (const value of [range.min - 1, range.max + 1, range.min + 0.5]) {
      await expectRangeRefusal(route, name as RangedField, pointer, value);
    }
  });

  it('/settle /actual_completion_tokens: -1 is refused with its range alone, not also against accounted_completion_tokens', async () => {
    expect(EXAMPLES['/settle']).toHaveProperty('accounted_completion_tokens', 160);
    await expectRangeRefusal('/settle', 'actual_completion_tokens', '/actual_completion_tokens', -1);
  });

  it.each(cases)('$route $pointer: the minimum and the maximum pass its range rule', async ({ route, name, pointer }) => {
    const range = INPUT_RANGES[name as RangedField];
    for (const value of [range.min, range.max]) {
      const response = await postJson(app(), route, withValue(route, name as RangedField, pointer, value));
      // At an end, another rule may still refuse the job (a token sum, a shard past total_columns, a
      // reservation of 0 tokens that the example goes past), but never this one.
      expect([200, 409, 422], response.body).toContain(response.statusCode);
      const errors = response.statusCode === 200 ? [] : response.json<{ errors: { path: string; message: string }[] }>().errors;
      expect(errors.filter((error) => error.path === pointer && error.message === rangeRule(range)), `${value}: ${response.body}`).toEqual([]);
    }
  });

  it('the widest ranges fit together: a last one-column shard of a 2^32 - 1 column model, at full capacity', async () => {
    const job: ContributionInput = {
      ...CONTRIBUTION_EXAMPLE,
      total_columns: 2 ** 32 - 1,
      assignments: [
        {
          worker_id: 'last-column',
          execution_time_ms: 2 ** 53 - 1,
          assigned_capacity_units: 2 ** 32 - 1,
          shard_column_start: 2 ** 32 - 2,
          shard_column_end: 2 ** 32 - 1,
          available_memory_bytes: 2 ** 53 - 1,
        },
      ],
    };
    const response = await postJson(app(), '/contribution', job);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json<{ assignments: { credits: string }[] }>().assignments.map((worker) => worker.credits)).toEqual(['616.000000000']);
  });
});

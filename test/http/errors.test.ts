/**
 * Every kind of error answer, with its exact problem body, and a property: whatever JSON a
 * client posts, the answer is a 2xx or a 4xx problem, never a 5xx.
 */
import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { describe, expect, it } from 'vitest';
import { CONTRIBUTION_EXAMPLE, QUOTE_EXAMPLE, REALTIME_DELTA_EXAMPLE, SETTLE_EXAMPLE } from '../../src/http/schemas/examples.js';
import {
  creditAmounts,
  creditPattern,
  expectExactProblem,
  ID_HEADER,
  INVALID_REQUEST,
  JSON_CONTENT_TYPE,
  oneViolation,
  MALFORMED_JSON,
  POST_ROUTES,
  postJson,
  postRaw,
  PROBLEM_CONTENT_TYPE,
  REQUEST_ID,
  RULE_VIOLATION,
  type PostRoute,
  INTERNAL_ERROR,
  ASSIGNMENT_FIELDS,
  type ProblemBody,
  useApp,
} from '../support/http.js';


const UNSUPPORTED_MEDIA_TYPE = {
  type: 'urn:divy:problem:unsupported-media-type',
  title: 'Unsupported content type',
  status: 400,
  detail: 'Send the request body as application/json.',
  request_id: REQUEST_ID,
} as const;

const ONE_FIELD = '1 field is missing, unknown or of the wrong type.';

describe('error answers', () => {
  const app = useApp();

  describe('400 invalid-request: the body does not match the schema', () => {
    it('a string where a number belongs', async () => {
      const response = await postJson(app(), '/quote', { ...QUOTE_EXAMPLE, prompt_tokens: '128' }, ID_HEADER);
      expectExactProblem(response, {
        ...INVALID_REQUEST,
        detail: ONE_FIELD,
        errors: [{ path: '/prompt_tokens', message: 'must be a number' }],
      });
    });

    it('a missing field', async () => {
      const { prompt_tokens: _omitted, ...body } = SETTLE_EXAMPLE;
      const response = await postJson(app(), '/settle', body, ID_HEADER);
      expectExactProblem(response, {
        ...INVALID_REQUEST,
        detail: ONE_FIELD,
        errors: [{ path: '/prompt_tokens', message: 'is required' }],
      });
    });

    it('an unknown field', async () => {
      const response = await postJson(app(), '/quote', { ...QUOTE_EXAMPLE, extra: 1 }, ID_HEADER);
      expectExactProblem(response, {
        ...INVALID_REQUEST,
        detail: ONE_FIELD,
        errors: [{ path: '/extra', message: 'is not a known field' }],
      });
    });

    it('several mistakes at once are all listed', async () => {
      const { total_model_bytes: _omitted, ...body } = QUOTE_EXAMPLE;
      const response = await postJson(app(), '/quote', { ...body, requested_completion_tokens: true, 'a/b~c': 0 }, ID_HEADER);
      const problem = response.json<ProblemBody>();
      expect(response.statusCode).toBe(400);
      expect(problem.detail).toBe('3 fields are missing, unknown or of the wrong type.');
      expect(problem.errors).toHaveLength(3);
      expect(problem.errors).toEqual(
        expect.arrayContaining([
          { path: '/requested_completion_tokens', message: 'must be a number' },
          { path: '/total_model_bytes', message: 'is required' },
          { path: '/a~1b~0c', message: 'is not a known field' },
        ]),
      );
    });

    it('wrong types inside the assignments and for the flag name their path', async () => {
      const response = await postJson(
        app(),
        '/realtime-delta',
        {
          ...REALTIME_DELTA_EXAMPLE,
          prompt_credits_accounted: 'yes',
          assignments: [{ ...REALTIME_DELTA_EXAMPLE.assignments[0]!, worker_id: 7 }],
        },
        ID_HEADER,
      );
      const problem = response.json<ProblemBody>();
      expect(response.statusCode).toBe(400);
      expect(problem.errors).toEqual(
        expect.arrayContaining([
          { path: '/prompt_credits_accounted', message: 'must be true or false' },
          { path: '/assignments/0/worker_id', message: 'must be a string' },
        ]),
      );
      expect(problem.errors).toHaveLength(2);
    });

    it('assignments that are not a list', async () => {
      const response = await postJson(app(), '/contribution', { ...CONTRIBUTION_EXAMPLE, assignments: {} }, ID_HEADER);
      expectExactProblem(response, {
        ...INVALID_REQUEST,
        detail: ONE_FIELD,
        errors: [{ path: '/assignments', message: 'must be a list' }],
      });
    });

    it.each([
      ['a list', '[1, 2]'],
      ['null', 'null'],
      ['a number', '42'],
      ['a string', '"quote"'],
    ])('a body that is %s, not an object', async (_name, body) => {
      const response = await postRaw(app(), '/quote', body, 'application/json', ID_HEADER);
      expectExactProblem(response, {
        ...INVALID_REQUEST,
        detail: ONE_FIELD,
        errors: [{ path: '', message: 'must be an object' }],
      });
    });

    it('no body at all', async () => {
      const response = await app().inject({ method: 'POST', url: '/quote', headers: ID_HEADER });
      expectExactProblem(response, {
        ...INVALID_REQUEST,
        detail: ONE_FIELD,
        errors: [{ path: '', message: 'is required' }],
      });
    });

    it('a number beyond float64 (1e400 parses as Infinity)', async () => {
      const response = await postRaw(
        app(),
        '/quote',
        '{"prompt_tokens":1e400,"requested_completion_tokens":1,"total_model_bytes":1}',
        'application/json',
        ID_HEADER,
      );
      expectExactProblem(response, {
        ...INVALID_REQUEST,
        detail: ONE_FIELD,
        errors: [{ path: '/prompt_tokens', message: 'must be a number (finite)' }],
      });
    });
  });

  describe('400 malformed-json and unsupported-media-type', () => {
    it('malformed JSON', async () => {
      const response = await postRaw(app(), '/quote', '{"prompt_tokens": 1,', 'application/json', ID_HEADER);
      expectExactProblem(response, MALFORMED_JSON);
    });

    it('an empty body declared as application/json', async () => {
      const response = await postRaw(app(), '/settle', '', 'application/json', ID_HEADER);
      expectExactProblem(response, MALFORMED_JSON);
    });

    it('a text/plain body, even one that holds JSON', async () => {
      const response = await postRaw(app(), '/quote', JSON.stringify(QUOTE_EXAMPLE), 'text/plain', ID_HEADER);
      expectExactProblem(response, UNSUPPORTED_MEDIA_TYPE);
    });

    it('an application/xml body', async () => {
      const response = await postRaw(app(), '/contribution', '<job prompt_tokens="1"/>', 'application/xml', ID_HEADER);
      expectExactProblem(response, UNSUPPORTED_MEDIA_TYPE);
    });

    it('a compressed body, which the service does not decode', async () => {
      const response = await app().inject({
        method: 'POST',
        url: '/quote',
        payload: JSON.stringify(QUOTE_EXAMPLE),
        headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', ...ID_HEADER },
      });
      expectExactProblem(response, {
        type: 'urn:divy:problem:unsupported-media-type',
        title: 'Unsupported content encoding',
        status: 400,
        detail: 'Content-Encoding gzip is not supported; send the body uncompressed.',
        request_id: REQUEST_ID,
      });
    });

    it('an identity content encoding is accepted', async () => {
      const response = await app().inject({
        method: 'POST',
        url: '/quote',
        payload: JSON.stringify(QUOTE_EXAMPLE),
        headers: { 'content-type': 'application/json', 'content-encoding': 'identity' },
      });
      expect(response.statusCode).toBe(200);
    });

    it('application/json with a charset parameter is accepted', async () => {
      const response = await postRaw(app(), '/quote', JSON.stringify(QUOTE_EXAMPLE), 'application/json; charset=utf-8');
      expect(response.statusCode).toBe(200);
    });
  });

  describe('422 policy-rule-violation: well-typed input that breaks a rule', () => {
    it('a shard that ends past total_columns', async () => {
      const response = await postJson(app(), '/contribution', { ...CONTRIBUTION_EXAMPLE, total_columns: 8000 }, ID_HEADER);
      expectExactProblem(response, oneViolation('/assignments/1/shard_column_end', 'must be at most total_columns (8000)'));
    });

    it('a shard that ends where it starts', async () => {
      const assignment = { ...CONTRIBUTION_EXAMPLE.assignments[0]!, shard_column_start: 10, shard_column_end: 10 };
      const response = await postJson(app(), '/contribution', { ...CONTRIBUTION_EXAMPLE, assignments: [assignment] }, ID_HEADER);
      expectExactProblem(response, oneViolation('/assignments/0/shard_column_end', 'must be greater than shard_column_start (10)'));
    });

    it('a frontier behind the accounted tokens', async () => {
      const response = await postJson(
        app(),
        '/realtime-delta',
        { ...REALTIME_DELTA_EXAMPLE, frontier_completion_tokens: 20, accounted_completion_tokens: 24 },
        ID_HEADER,
      );
      expectExactProblem(response, oneViolation('/frontier_completion_tokens', 'must be at least accounted_completion_tokens (24)'));
    });

    it('a contribution of zero tokens', async () => {
      const response = await postJson(
        app(),
        '/contribution',
        { ...CONTRIBUTION_EXAMPLE, prompt_tokens: 0, completion_tokens: 0 },
        ID_HEADER,
      );
      expectExactProblem(response, {
        ...RULE_VIOLATION,
        detail: '1 rule violation.',
        errors: [
          {
            path: '/completion_tokens',
            message: 'prompt_tokens + completion_tokens must be at least 1: a job of zero tokens has nothing to split',
          },
        ],
      });
    });

    it('a fraction of a token', async () => {
      const response = await postJson(app(), '/quote', { ...QUOTE_EXAMPLE, prompt_tokens: 1.5 }, ID_HEADER);
      expectExactProblem(response, oneViolation('/prompt_tokens', 'must be an integer from 0 to 4294967295'));
    });

    it('2^63 - 1 bytes, past the exact range of a JSON number', async () => {
      const response = await postRaw(
        app(),
        '/quote',
        '{"prompt_tokens":128,"requested_completion_tokens":256,"total_model_bytes":9223372036854775807}',
        'application/json',
        ID_HEADER,
      );
      expectExactProblem(response, oneViolation('/total_model_bytes', 'must be an integer from 0 to 9007199254740991'));
    });

    it('a request whose tokens overflow the 32-bit counters', async () => {
      // The settlement alone, without the reservation and the stream, which would break rules of their own.
      const { prompt_tokens: _prompt, actual_completion_tokens: _actual, total_model_bytes } = SETTLE_EXAMPLE;
      const response = await postJson(
        app(),
        '/settle',
        { prompt_tokens: 2 ** 32 - 1, actual_completion_tokens: 1, total_model_bytes },
        ID_HEADER,
      );
      expectExactProblem(response, oneViolation('/actual_completion_tokens', 'prompt_tokens + actual_completion_tokens must be at most 4294967295'));
    });

    it('several violations are all named', async () => {
      const response = await postJson(
        app(),
        '/contribution',
        {
          ...CONTRIBUTION_EXAMPLE,
          total_columns: 0,
          assignments: [{ ...CONTRIBUTION_EXAMPLE.assignments[0]!, worker_id: '', assigned_capacity_units: 0 }],
        },
        ID_HEADER,
      );
      expectExactProblem(response, {
        ...RULE_VIOLATION,
        detail: '3 rule violations.',
        errors: [
          { path: '/total_columns', message: 'must be an integer from 1 to 4294967295' },
          { path: '/assignments/0/worker_id', message: 'must be a string of 1 to 256 characters' },
          { path: '/assignments/0/assigned_capacity_units', message: 'must be an integer from 1 to 4294967295' },
        ],
      });
    });

    it('an empty assignment list', async () => {
      const response = await postJson(app(), '/contribution', { ...CONTRIBUTION_EXAMPLE, assignments: [] }, ID_HEADER);
      expectExactProblem(response, oneViolation('/assignments', 'must hold at least one assignment to split the credits among'));
    });

    it('lists the first 100 of many violations and counts them all', async () => {
      const bad = { ...CONTRIBUTION_EXAMPLE.assignments[0]!, available_memory_bytes: 0 };
      const response = await postJson(
        app(),
        '/contribution',
        { ...CONTRIBUTION_EXAMPLE, assignments: Array.from({ length: 150 }, () => bad) },
        ID_HEADER,
      );
      expect(response.statusCode).toBe(422);
      const problem = response.json<ProblemBody>();
      expect(problem.detail).toBe('150 rule violations (the first 100 are listed).');
      expect(problem.errors).toHaveLength(100);
      expect(problem.errors?.[99]).toEqual({
        path: '/assignments/99/available_memory_bytes',
        message: 'must be an integer from 1 to 9007199254740991',
      });
    });
  });

  describe('400 for a URL that is not valid percent-encoding', () => {
    it.for(['/%', '/quote%ZZ'])('%s answers a problem with the request id', async (url) => {
      const response = await app().inject({ method: 'POST', url, payload: '{}', headers: { 'content-type': 'application/json', ...ID_HEADER } });
      expect(response.headers['x-request-id']).toBe(REQUEST_ID);
      expectExactProblem(response, {
        type: 'about:blank',
        title: 'Bad Request',
        status: 400,
        detail: `'${url}' is not a valid url component`,
        request_id: REQUEST_ID,
      });
    });
  });

  describe('404 not-found', () => {
    it('an unknown route', async () => {
      const response = await app().inject({ method: 'GET', url: '/nowhere?x=1', headers: ID_HEADER });
      expectExactProblem(response, {
        type: 'urn:divy:problem:not-found',
        title: 'Not Found',
        status: 404,
        detail: 'No route serves GET /nowhere; see /docs for the API.',
        request_id: REQUEST_ID,
      });
    });

    it('a known path with the wrong method', async () => {
      const response = await app().inject({ method: 'GET', url: '/quote', headers: ID_HEADER });
      expectExactProblem(response, {
        type: 'urn:divy:problem:not-found',
        title: 'Not Found',
        status: 404,
        detail: 'No route serves GET /quote; see /docs for the API.',
        request_id: REQUEST_ID,
      });
    });

    it('POST to a read-only route', async () => {
      const response = await postJson(app(), '/policy', {}, ID_HEADER);
      expectExactProblem(response, {
        type: 'urn:divy:problem:not-found',
        title: 'Not Found',
        status: 404,
        detail: 'No route serves POST /policy; see /docs for the API.',
        request_id: REQUEST_ID,
      });
    });
  });
});

describe('413 body-too-large', () => {
  const app = useApp({ body_limit_bytes: 100 });

  it('a body over body_limit_bytes', async () => {
    const response = await postJson(app(), '/contribution', CONTRIBUTION_EXAMPLE, ID_HEADER);
    expectExactProblem(response, {
      type: 'urn:divy:problem:body-too-large',
      title: 'Request body too large',
      status: 413,
      detail: 'The request body exceeds the configured limit (BODY_LIMIT_BYTES).',
      request_id: REQUEST_ID,
    });
  });

  it('a body within the limit still passes', async () => {
    const { budget_credits: _budget, ...unbudgeted } = QUOTE_EXAMPLE;
    const body = JSON.stringify(unbudgeted);
    expect(body.length).toBeLessThanOrEqual(100);
    const response = await postRaw(app(), '/quote', body, 'application/json');
    expect(response.statusCode).toBe(200);
  });
});

describe('500: a bug answers a bare problem that shows no internals', () => {
  const app = useApp({}, (built) => {
    built.get('/boom', async () => {
      throw new Error('secret internals');
    });
  });

  it('answers about:blank with the request id and nothing of the error', async () => {
    const response = await app().inject({ method: 'GET', url: '/boom', headers: ID_HEADER });
    expectExactProblem(response, INTERNAL_ERROR);
    expect(response.body).not.toContain('secret');
    expect(response.body).not.toMatch(/internals|stack|\.ts:|\.js:/);
  });

  it('uses the generated request id when the caller sent none', async () => {
    const response = await app().inject({ method: 'GET', url: '/boom' });
    const id = response.headers['x-request-id'];
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.statusCode).toBe(500);
    expect(response.json<ProblemBody>().detail).toBe(`The service failed to answer; the failure is logged under request id ${String(id)}.`);
  });
});

describe('property: no JSON a client posts makes the service fail', () => {
  const app = useApp();

  /** Anything a JSON body can hold, plus numbers at the edges of the ranges. */
  const anyValue: fc.Arbitrary<unknown> = fc.oneof(
    fc.jsonValue({ maxDepth: 2 }),
    fc.double(),
    fc.constantFrom(0, -0, 1, -1, 0.5, 1e-320, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, 2 ** 53, 2 ** 63, 1e308, '', '1', true, null, [], {}),
  );

  /**
   * Mostly the plausible object as is; now and then one of its keys gets a random-typed value or
   * is dropped, or an unknown key is added.
   */
  function mutated(plausible: fc.Arbitrary<Record<string, unknown>>, keys: readonly string[]): fc.Arbitrary<unknown> {
    const key = fc.constantFrom(...keys);
    return fc.oneof(
      { arbitrary: plausible, weight: 12 },
      { arbitrary: fc.tuple(plausible, key, anyValue).map(([body, name, value]) => ({ ...body, [name]: value })), weight: 2 },
      {
        arbitrary: fc.tuple(plausible, key).map(([body, name]) => Object.fromEntries(Object.entries(body).filter(([k]) => k !== name))),
        weight: 1,
      },
      { arbitrary: fc.tuple(plausible, anyValue).map(([body, value]) => ({ ...body, extra_field: value })), weight: 1 },
      { arbitrary: anyValue, weight: 1 },
    );
  }

  const tokens = fc.oneof({ arbitrary: fc.nat(1000), weight: 5 }, { arbitrary: fc.constantFrom(0, 2 ** 31, 2 ** 32 - 1), weight: 1 });
  const bytes = fc.oneof(fc.nat(2 ** 40), fc.constantFrom(0, 1, 2 ** 35, 2 ** 36, 2 ** 53 - 1));
  const columns = fc.oneof({ arbitrary: fc.integer({ min: 64, max: 4096 }), weight: 5 }, { arbitrary: fc.integer({ min: 1, max: 64 }), weight: 1 });
  const positive = fc.oneof(fc.integer({ min: 1, max: 10_000 }), fc.constantFrom(1, 2 ** 53 - 1));

  const assignment = mutated(
    fc
      .record({
        worker_id: fc.string({ minLength: 1, maxLength: 12 }),
        execution_time_ms: fc.oneof(fc.nat(100_000), fc.constantFrom(0, 2 ** 53 - 1)),
        assigned_capacity_units: positive,
        shard_column_start: fc.nat(31),
        width: fc.integer({ min: 1, max: 33 }),
        available_memory_bytes: fc.oneof(positive, fc.nat(2 ** 40).map((n) => n + 1)),
      })
      .map(({ width, ...fields }) => ({ ...fields, shard_column_end: fields.shard_column_start + width })),
    ASSIGNMENT_FIELDS,
  );
  const assignments = fc.oneof({ arbitrary: fc.array(assignment, { maxLength: 5 }), weight: 12 }, { arbitrary: anyValue, weight: 1 });

  const models: Record<PostRoute, fc.Arbitrary<Record<string, unknown>>> = {
    '/quote': fc.record({ prompt_tokens: tokens, requested_completion_tokens: tokens, total_model_bytes: bytes }),
    '/settle': fc.record({ prompt_tokens: tokens, actual_completion_tokens: tokens, total_model_bytes: bytes }),
    '/contribution': fc.record({
      prompt_tokens: tokens,
      completion_tokens: tokens,
      total_model_bytes: bytes,
      total_columns: columns,
      assignments,
    }),
    '/realtime-delta': fc
      .record({
        prompt_tokens: tokens,
        accounted_completion_tokens: fc.nat(200),
        step: fc.oneof({ arbitrary: fc.nat(100), weight: 6 }, { arbitrary: fc.integer({ min: -5, max: -1 }), weight: 1 }),
        prompt_credits_accounted: fc.boolean(),
        total_model_bytes: bytes,
        total_columns: columns,
        assignments,
      })
      .map(({ step, ...fields }) => ({ ...fields, frontier_completion_tokens: Math.max(0, fields.accounted_completion_tokens + step) })),
  };

  const KEYS: Record<PostRoute, readonly string[]> = {
    '/quote': ['prompt_tokens', 'requested_completion_tokens', 'total_model_bytes'],
    '/settle': ['prompt_tokens', 'actual_completion_tokens', 'total_model_bytes'],
    '/contribution': ['prompt_tokens', 'completion_tokens', 'total_model_bytes', 'total_columns', 'assignments'],
    '/realtime-delta': [
      'prompt_tokens',
      'frontier_completion_tokens',
      'accounted_completion_tokens',
      'prompt_credits_accounted',
      'total_model_bytes',
      'total_columns',
      'assignments',
    ],
  };

  /** An object with the route's keys, most of them plausible, some random-typed, dropped or added. */
  const jobBody = (route: PostRoute) => mutated(models[route], KEYS[route]);

  /** Checks one answer: a 2xx of sound amounts, or a problem whose status is the HTTP status. */
  function checkAnswer(route: PostRoute, response: LightMyRequestResponse, seen: Map<number, number>): void {
    const status = response.statusCode;
    seen.set(status, (seen.get(status) ?? 0) + 1);
    expect(status, response.body).toBeLessThan(500);
    if (status === 204) {
      expect(route).toBe('/realtime-delta');
      expect(response.body).toBe('');
      return;
    }
    if (status === 200) {
      expect(response.headers['content-type']).toBe(JSON_CONTENT_TYPE);
      const body: unknown = response.json();
      for (const { path, value } of creditAmounts(body)) {
        expect(value, `${path} in ${response.body}`).toMatch(creditPattern(9));
      }
      expect(leaves(body).every((leaf) => typeof leaf === 'string' || (typeof leaf === 'number' && Number.isFinite(leaf))), response.body).toBe(true);
      const withoutIds = JSON.stringify(body, (key, value: unknown) => (key === 'worker_id' ? '' : value));
      expect(withoutIds).not.toMatch(/NaN|Infinity/);
      return;
    }
    expect([400, 413, 422], response.body).toContain(status);
    expect(response.headers['content-type']).toBe(PROBLEM_CONTENT_TYPE);
    expect(response.json<ProblemBody>().status).toBe(status);
  }

  for (const route of POST_ROUTES) {
    it(`${route}: random JSON documents and non-JSON text never answer 5xx`, async () => {
      const seen = new Map<number, number>();
      await fc.assert(
        fc.asyncProperty(fc.oneof(fc.json({ maxDepth: 3 }), fc.string({ maxLength: 40 })), async (text) => {
          checkAnswer(route, await postRaw(app(), route, text, 'application/json'), seen);
        }),
        { numRuns: 100 },
      );
      expect(seen.get(400)).toBeGreaterThan(0);
    });

    it(`${route}: objects with the route's keys and random-typed values never answer 5xx or unsound amounts`, async () => {
      const seen = new Map<number, number>();
      await fc.assert(
        fc.asyncProperty(jobBody(route), async (body) => {
          checkAnswer(route, await postJson(app(), route, body), seen);
        }),
        { numRuns: 100 },
      );
      // The generator must reach the happy path and both kinds of rejection, not only one of them.
      const reached = JSON.stringify([...seen]);
      expect((seen.get(200) ?? 0) + (seen.get(204) ?? 0), reached).toBeGreaterThan(0);
      expect(seen.get(400), reached).toBeGreaterThan(0);
      expect(seen.get(422), reached).toBeGreaterThan(0);
    });
  }
});

/** Every primitive in a JSON value (null included). */
function leaves(value: unknown): unknown[] {
  if (Array.isArray(value)) return value.flatMap(leaves);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(leaves);
  return [value];
}

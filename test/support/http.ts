/** Helpers shared by the HTTP tests: one app per block, injecting JSON, reading problems, checking credit amounts. */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, expect } from 'vitest';
import { buildApp, type AppOptions } from '../../src/app.js';
import { CONTRIBUTION_EXAMPLE, QUOTE_EXAMPLE, REALTIME_DELTA_BATCH_EXAMPLE, REALTIME_DELTA_EXAMPLE, SETTLE_EXAMPLE } from '../../src/http/schemas/examples.js';

export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';
export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

/** The POST routes that take a job as a JSON body. */
export const POST_ROUTES = ['/quote', '/settle', '/contribution', '/realtime-delta'] as const;
export type PostRoute = (typeof POST_ROUTES)[number];

/** The example body the OpenAPI document shows for each POST route. */
export const POST_EXAMPLES: Readonly<Record<string, unknown>> = {
  '/quote': QUOTE_EXAMPLE,
  '/settle': SETTLE_EXAMPLE,
  '/contribution': CONTRIBUTION_EXAMPLE,
  '/realtime-delta': REALTIME_DELTA_EXAMPLE,
  '/realtime-delta/batch': REALTIME_DELTA_BATCH_EXAMPLE,
};

export const ROUTE_OF_KIND = {
  quote: '/quote',
  settle: '/settle',
  contribution: '/contribution',
  realtime_delta: '/realtime-delta',
} as const satisfies Record<string, PostRoute>;

/**
 * One app for the enclosing describe block (or file): built and ready before its tests, closed
 * after them. Returns a getter, since the app exists only once the block's tests start.
 *
 * `options` may be a function, for options that only exist once earlier hooks ran (a policy
 * file written in a beforeAll). `setup` runs on the built app before it is ready, to add a
 * route a test needs.
 */
export function useApp(
  options: AppOptions | (() => AppOptions) = {},
  setup?: (app: FastifyInstance) => void,
): () => FastifyInstance {
  let app: FastifyInstance | undefined;
  beforeAll(async () => {
    const built = await buildApp(typeof options === 'function' ? options() : options);
    app = built;
    setup?.(built);
    await built.ready();
  });
  afterAll(async () => {
    const built = app;
    app = undefined;
    await built?.close();
  });
  return () => {
    if (app === undefined) throw new Error('useApp: the app is only there while the tests of its block run');
    return app;
  };
}

/** Posts a value serialized as JSON. */
export function postJson(
  app: FastifyInstance,
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url,
    payload: JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...headers },
  });
}

/** Posts a body exactly as given, under the given content type. */
export function postRaw(
  app: FastifyInstance,
  url: string,
  body: string,
  contentType: string,
  headers: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url, payload: body, headers: { 'content-type': contentType, ...headers } });
}

export interface ProblemBody {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly request_id: string;
  readonly errors?: readonly { readonly path: string; readonly message: string }[];
}

/** The request id the tests of exact problems send, and so find again in every problem body. */
export const REQUEST_ID = 'test-request-0001';
export const ID_HEADER = { 'x-request-id': REQUEST_ID } as const;

type ProblemError = { readonly path: string; readonly message: string };

/** The head of a 400 for a body that does not match the schema, naming REQUEST_ID. */
export const INVALID_REQUEST = {
  type: 'urn:divy:problem:invalid-request',
  title: 'Request does not match the schema',
  status: 400,
  request_id: REQUEST_ID,
} as const;

/** The head of a 422 for a body that breaks a rule of the policy, naming REQUEST_ID. */
export const RULE_VIOLATION = {
  type: 'urn:divy:problem:policy-rule-violation',
  title: 'Input breaks a rule of the credit policy',
  status: 422,
  request_id: REQUEST_ID,
} as const;

/** The 400 of a body that is not JSON, naming REQUEST_ID. */
export const MALFORMED_JSON = {
  type: 'urn:divy:problem:malformed-json',
  title: 'Malformed JSON',
  status: 400,
  detail: 'The request body is not valid JSON.',
  request_id: REQUEST_ID,
} as const;

/** The 500 of a bug, naming REQUEST_ID and nothing of the error. */
export const INTERNAL_ERROR: ProblemBody = {
  type: 'about:blank',
  title: 'Internal Server Error',
  status: 500,
  detail: `The service failed to answer; the failure is logged under request id ${REQUEST_ID}.`,
  request_id: REQUEST_ID,
};

/** The fields of a worker assignment, in the schema's order. */
export const ASSIGNMENT_FIELDS = [
  'worker_id',
  'execution_time_ms',
  'assigned_capacity_units',
  'shard_column_start',
  'shard_column_end',
  'available_memory_bytes',
] as const;

/** The 400 of the schema errors a body has, in order. */
export function invalidRequest(...errors: ProblemError[]): ProblemBody {
  const fields = errors.length === 1 ? '1 field is' : `${errors.length} fields are`;
  return { ...INVALID_REQUEST, detail: `${fields} missing, unknown or of the wrong type.`, errors };
}

/** The 422 of the rules a body breaks, in order. */
export function ruleViolations(...errors: ProblemError[]): ProblemBody {
  return { ...RULE_VIOLATION, detail: `${errors.length} rule ${errors.length === 1 ? 'violation' : 'violations'}.`, errors };
}

/** The 422 of one broken rule. */
export function oneViolation(path: string, message: string): ProblemBody {
  return ruleViolations({ path, message });
}

/** The 409 of a count that goes `excess` tokens past a reservation of `reserved`. */
export function reservationExceeded(field: 'frontier_completion_tokens' | 'actual_completion_tokens', reserved: number, excess: number): ProblemBody {
  const tokens = `${excess} ${excess === 1 ? 'token' : 'tokens'}`;
  return {
    type: 'urn:divy:problem:reservation-exceeded',
    title: 'The job goes past its reservation',
    status: 409,
    detail: `${field} goes ${tokens} past reserved_completion_tokens (${reserved}); reserve more before burning more.`,
    errors: [{ path: `/${field}`, message: `must be at most reserved_completion_tokens (${reserved}): ${tokens} too many` }],
    request_id: REQUEST_ID,
  };
}

/** Asserts the response is a problem document whose status matches the HTTP status, and returns it. */
export function expectProblem(response: LightMyRequestResponse, status: number): ProblemBody {
  expect(response.statusCode, response.body).toBe(status);
  expect(response.headers['content-type']).toBe(PROBLEM_CONTENT_TYPE);
  const body = response.json<ProblemBody>();
  expect(body.status).toBe(status);
  expect(body.request_id).toBe(response.headers['x-request-id']);
  return body;
}

/** Asserts an exact problem body, its status and content type, and the request id header. */
export function expectExactProblem(response: LightMyRequestResponse, expected: ProblemBody): void {
  expect(response.statusCode, response.body).toBe(expected.status);
  expect(response.headers['content-type']).toBe(PROBLEM_CONTENT_TYPE);
  expect(response.headers['x-request-id']).toBe(expected.request_id);
  expect(response.json()).toStrictEqual(expected);
}

/** Credit amounts are non-negative decimal strings with exactly `scale` fraction digits. */
export function creditPattern(scale: number): RegExp {
  return scale === 0 ? /^[0-9]+$/ : new RegExp(`^[0-9]+\\.[0-9]{${scale}}$`);
}

const CREDIT_FIELDS = new Set([
  'prompt_credits',
  'completion_credits',
  'total_credits',
  'job_credit_budget',
  'credits',
  // A reservation, a reconciliation and a posting.
  'reserved_credits',
  'burned_credits',
  'remaining_credits',
  'streamed_credits',
  'final_delta_credits',
  'release_credits',
  'amount',
]);

/** Every credit amount in a response body, with its JSON Pointer. */
export function creditAmounts(body: unknown, path = ''): { path: string; value: unknown }[] {
  if (Array.isArray(body)) return body.flatMap((item, index) => creditAmounts(item, `${path}/${index}`));
  if (body === null || typeof body !== 'object') return [];
  return Object.entries(body).flatMap(([key, value]) =>
    CREDIT_FIELDS.has(key) ? [{ path: `${path}/${key}`, value }] : creditAmounts(value, `${path}/${key}`),
  );
}

/** Sums decimal credit strings exactly, in units of 10^-scale. */
export function sumCredits(amounts: readonly string[], scale: number): string {
  const units = amounts.reduce((total, amount) => total + toUnits(amount, scale), 0n);
  const text = units.toString().padStart(scale + 1, '0');
  return scale === 0 ? text : `${text.slice(0, -scale)}.${text.slice(-scale)}`;
}

function toUnits(amount: string, scale: number): bigint {
  const [whole = '0', fraction = ''] = amount.split('.');
  return BigInt(whole + fraction.padEnd(scale, '0'));
}

/**
 * Makes the block's app (from useApp) listen on 127.0.0.1 before its tests, for what only a real
 * connection goes through (load shedding answers before Fastify, where inject() does not reach).
 * Returns a getter of the origin.
 */
export function useListening(app: () => FastifyInstance): () => string {
  let origin: string | undefined;
  beforeAll(async () => {
    origin = await app().listen({ port: 0, host: '127.0.0.1' });
  });
  return () => {
    if (origin === undefined) throw new Error('useListening: the app only listens while the tests of its block run');
    return origin;
  };
}

export interface FetchedResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

/** One request over a real connection: a JSON body when `body` is given. */
export async function fetchFrom(origin: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<FetchedResponse> {
  const response = await fetch(`${origin}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/**
 * Every problem example the OpenAPI document shows is what the running service answers: for each
 * documented error status of each operation, a real request gets exactly that body (sent with the
 * example's request id, so even the id matches). A documented example with no request here that
 * produces it fails the test.
 */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { describe, expect, it } from 'vitest';
import { markNotReady } from '../../src/app.js';
import { digestOf, ROLES, type Role } from '../../src/http/auth.js';
import { QUOTE_EXAMPLE, REALTIME_DELTA_EXAMPLE } from '../../src/http/schemas/examples.js';
import { EXAMPLE_REQUEST_ID, REFUSED_REQUESTS } from '../../src/http/schemas/problem-examples.js';
import { DEFAULT_POLICY_SETTINGS, type PolicyCatalog } from '../../src/policy/index.js';
import { fetchFrom, POST_EXAMPLES, PROBLEM_CONTENT_TYPE, postJson, useApp, useListening, type FetchedResponse } from '../support/http.js';
import { committedDocumentText, operations, type OpenApiDocument } from '../support/openapi.js';

const ID = { 'x-request-id': EXAMPLE_REQUEST_ID } as const;
const committed = JSON.parse(committedDocumentText()) as OpenApiDocument;

/** Each documented problem example of a document: operation, status and body. */
function documentedProblems(document: OpenApiDocument, statuses?: readonly string[]) {
  return operations(document).flatMap(({ method, path, operation }) =>
    Object.entries(operation.responses)
      .filter(([status]) => Number(status) >= 400 && (statuses === undefined || statuses.includes(status)))
      .map(([status, response]) => ({
        method,
        path,
        status,
        example: (response.content?.['application/problem+json'] as { example?: unknown } | undefined)?.example,
      })),
  );
}

/** A policy the configuration would refuse, built by hand: its fractional credit scale makes the policy fail with a plain error, a bug. */
const BROKEN_VERSION = 'broken';
const withBrokenPolicy: PolicyCatalog = {
  current: DEFAULT_POLICY_SETTINGS.parameters.version,
  policies: new Map([
    [DEFAULT_POLICY_SETTINGS.parameters.version, DEFAULT_POLICY_SETTINGS],
    [BROKEN_VERSION, { ...DEFAULT_POLICY_SETTINGS, credit_scale: 0.5, parameters: { ...DEFAULT_POLICY_SETTINGS.parameters, version: BROKEN_VERSION } }],
  ]),
};

/** A body that hits the bug on `path`: the route's example, priced by the broken policy. */
function bodyHittingABug(path: string): unknown {
  if (path === '/realtime-delta/batch') return { updates: [{ ...REALTIME_DELTA_EXAMPLE, policy_version: BROKEN_VERSION }] };
  return { ...(POST_EXAMPLES[path] as object), policy_version: BROKEN_VERSION };
}

const TOKENS: Record<Role, string> = { coordinator: 'coordinator-token-1', wallet: 'wallet-token-1', operator: 'operator-token-1' };

function expectExample(response: LightMyRequestResponse, status: string, example: unknown): void {
  expect(response.statusCode, response.body).toBe(Number(status));
  expect(response.headers['content-type']).toBe(PROBLEM_CONTENT_TYPE);
  expect(response.json()).toStrictEqual(example);
}

describe('the problem examples of openapi/openapi.json', () => {
  const app = useApp();
  const smallBodies = useApp({ body_limit_bytes: 64 });
  const buggy = useApp({ catalog: withBrokenPolicy });
  const draining = useApp({}, (built) => markNotReady(built));

  /** The request that gets the documented problem, on the app that answers it so. */
  function refusedRequest(method: string, path: string, status: string): Promise<LightMyRequestResponse> {
    const url = path.replace('{version}', 'divy-credit-0');
    if (method === 'get') {
      const server: Record<string, () => FastifyInstance> = { '404': app, '503': draining };
      const on = server[status];
      if (on === undefined) throw new Error(`no request here gets the documented ${status} of GET ${path}`);
      return on().inject({ method: 'GET', url, headers: ID });
    }
    const refused = (REFUSED_REQUESTS as Record<string, Record<string, unknown>>)[path]?.[status];
    if (refused !== undefined) return postJson(app(), path, refused, ID);
    if (path === '/realtime-delta/batch' && status === '422') {
      // One update past the limit: its length alone is refused.
      const max = Number(/at most (\d+) updates/.exec(JSON.stringify(committed.paths[path]))?.[1]);
      return postJson(app(), path, { updates: Array.from({ length: max + 1 }, () => ({})) }, ID);
    }
    if (status === '413') return postJson(smallBodies(), path, POST_EXAMPLES[path], ID);
    if (status === '500') return postJson(buggy(), path, bodyHittingABug(path), ID);
    throw new Error(`no request here gets the documented ${status} of POST ${path}`);
  }

  it('documents a problem example for every error status', () => {
    const documented = documentedProblems(committed);
    expect(documented.length).toBe(25);
    for (const { method, path, status, example } of documented) expect(example, `${method} ${path} ${status}`).toBeDefined();
  });

  it.each(documentedProblems(committed).map(({ method, path, status, example }) => [`${method.toUpperCase()} ${path} ${status}`, method, path, status, example]))(
    '%s: the running service answers exactly the documented example',
    async (_name, method, path, status, example) => {
      const response = await refusedRequest(method as string, path as string, status as string);
      expectExample(response, status as string, example);
    },
  );

  it('the 413 example is what a body past the limit gets, whatever the limit is', async () => {
    const example = committed.paths['/quote']!['post']!.responses['413']!.content!['application/problem+json'] as { example?: unknown };
    const body = JSON.stringify({ ...QUOTE_EXAMPLE, policy_version: 'x'.repeat(100) });
    const response = await smallBodies().inject({ method: 'POST', url: '/quote', payload: body, headers: { 'content-type': 'application/json', ...ID } });
    expectExample(response, '413', example.example);
  });
});

describe('the 401 and 403 examples of the document served with auth on', () => {
  const app = useApp({ auth_tokens: ROLES.map((role) => ({ role, digest: digestOf(TOKENS[role]) })) });

  it('are what the service answers a request without a token, and one with a token of the role the example names', async () => {
    const operator = { authorization: `Bearer ${TOKENS.operator}` };
    const { document } = await servedDocumentWith(app(), operator);
    const documented = documentedProblems(document, ['401', '403']);
    // Every operation but the open ones (/healthz, /readyz, the signing key) documents both.
    expect(documented.length).toBe(2 * 8);
    for (const { method, path, status, example } of documented) {
      const url = path.replace('{version}', DEFAULT_POLICY_SETTINGS.parameters.version);
      const role = /^A (\w+) token may not call/.exec((example as { detail: string }).detail)?.[1] as Role | undefined;
      const authorization = status === '401' ? {} : { authorization: `Bearer ${TOKENS[role!]}` };
      const payload = method === 'post' ? JSON.stringify(POST_EXAMPLES[path]) : undefined;
      const response = await app().inject({
        method: method.toUpperCase() as 'GET' | 'POST',
        url,
        ...(payload === undefined ? {} : { payload }),
        headers: { ...ID, ...authorization, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
      });
      expectExample(response, status, example);
    }
  });
});

/** GET /docs/json with the given headers (the document needs an operator token when auth is on). */
async function servedDocumentWith(app: FastifyInstance, headers: Record<string, string>): Promise<{ document: OpenApiDocument }> {
  const response = await app.inject({ method: 'GET', url: '/docs/json', headers });
  expect(response.statusCode).toBe(200);
  return { document: response.json<OpenApiDocument>() };
}

/** What `app.swagger()` holds: the document as served, read without a request (these apps refuse requests). */
function documentOf(app: FastifyInstance): OpenApiDocument {
  return app.swagger() as unknown as OpenApiDocument;
}

/** The request of a documented operation, sent with the example's request id. */
function sendDocumented(app: FastifyInstance, method: string, path: string): Promise<LightMyRequestResponse> {
  const url = path.replace('{version}', DEFAULT_POLICY_SETTINGS.parameters.version);
  const payload = method === 'post' ? JSON.stringify(POST_EXAMPLES[path]) : undefined;
  return app.inject({
    method: method.toUpperCase() as 'GET' | 'POST',
    url,
    ...(payload === undefined ? {} : { payload }),
    headers: { ...ID, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
  });
}

describe('the 503 examples of the document served with load shedding on', () => {
  const app = useApp({ load_shedding: { max_event_loop_delay_ms: 50, max_event_loop_utilization: 0, max_heap_used_bytes: 0, sample_interval_ms: 10, retry_after_s: 1 } });
  // Shedding answers before Fastify, where inject() does not reach: real connections.
  const origin = useListening(app);

  it('are what a route answers once the event loop was blocked; the probes and /metrics document none', async () => {
    const documented = documentedProblems(documentOf(app()), ['503']).filter(({ path }) => path !== '/readyz');
    expect(documented.map(({ path }) => path).sort()).toEqual(
      ['/.well-known/jwks.json', '/contribution', '/policy', '/policy/{version}', '/quote', '/realtime-delta', '/realtime-delta/batch', '/settle'].sort(),
    );
    for (const { method, path, status, example } of documented) {
      const url = path.replace('{version}', DEFAULT_POLICY_SETTINGS.parameters.version);
      let response: FetchedResponse | undefined;
      for (let attempt = 0; attempt < 20 && response?.status !== 503; attempt += 1) {
        const until = Date.now() + 300;
        while (Date.now() < until);
        await new Promise((resolve) => setImmediate(resolve));
        response = await fetchFrom(origin(), method.toUpperCase(), url, method === 'post' ? POST_EXAMPLES[path] : undefined, ID);
      }
      expect(response?.status).toBe(Number(status));
      expect(response?.headers.get('content-type')).toBe(PROBLEM_CONTENT_TYPE);
      expect(JSON.parse(response!.text)).toStrictEqual(example);
    }
  });
});

describe('the 429 examples of the document served with a rate limit', () => {
  const app = useApp({ rate_limit_per_min: 1 });

  it('are what a route answers past the limit; the open routes document none', async () => {
    const documented = documentedProblems(documentOf(app()), ['429']);
    expect(documented.map(({ path }) => path)).not.toContain('/healthz');
    expect(documented.map(({ path }) => path)).not.toContain('/.well-known/jwks.json');
    expect(documented.length).toBe(8);
    // Without auth every request counts against its client IP: the first spends the minute's one request.
    expect((await app().inject({ method: 'GET', url: '/policy' })).statusCode).toBe(200);
    for (const { method, path, status, example } of documented) expectExample(await sendDocumented(app(), method, path), status, example);
  });
});

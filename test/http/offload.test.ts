/**
 * Large jobs answered in the worker-thread pool (src/http/offload/): answered exactly as inline
 * (status, headers, bytes, signatures, metrics), small bodies kept inline, and a full queue shed.
 */
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import fc from 'fast-check';
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify';
import { createVerifier, httpbis } from 'http-message-signatures';
import { describe, expect, it } from 'vitest';
import { CONTRIBUTION_EXAMPLE, REALTIME_DELTA_EXAMPLE, SETTLE_EXAMPLE } from '../../src/http/schemas/examples.js';
import { SIGNED_COMPONENTS } from '../../src/http/signing.js';
import { jsonTextParserOf } from '../../src/http/json-body.js';
import { answerTask, offloadedAnswerers } from '../../src/http/offload/answer-task.js';
import { OFFLOAD_THREAD_NICE_INCREMENT } from '../../src/http/offload/task.js';
import { apiSchemas } from '../../src/http/schemas/api.js';
import { catalogOfOne, computeRealtimeDelta, DEFAULT_POLICY_SETTINGS, type PolicySettings, type WorkerAssignment } from '../../src/policy/index.js';
import { listeningPort, readBody, useServiceProcesses, withTimeout } from '../support/service-process.js';
import { buildApp } from '../../src/app.js';
import { useApp } from '../support/http.js';

/** Few assignments allowed, so that "too many assignments" costs a short body. */
const SETTINGS: PolicySettings = { ...DEFAULT_POLICY_SETTINGS, max_assignments: 4 };
/** Batches of up to 4 updates are generated: past 3 is a 422. */
const BATCH_MAX_UPDATES = 3;
const OFFLOAD_ALL = { threads: 1, min_body_bytes: 0 };
const OFFLOADED_ROUTES = ['/realtime-delta', '/contribution', '/settle', '/realtime-delta/batch'] as const;
type OffloadedRoute = (typeof OFFLOADED_ROUTES)[number];

/** The headers a client or a ledger reads; `date` and the like differ between any two answers. */
const COMPARED_HEADERS = ['content-type', 'vary', 'x-request-id', 'retry-after', 'content-digest', 'divy-request-digest', 'signature-input', 'signature'];

function post(app: FastifyInstance, url: string, body: Buffer | string, accept?: string): Promise<LightMyRequestResponse> {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-request-id': 'offload-parity' };
  if (accept !== undefined) headers['accept'] = accept;
  return app.inject({ method: 'POST', url, payload: body, headers });
}

function answerOf(response: LightMyRequestResponse) {
  return {
    status: response.statusCode,
    headers: Object.fromEntries(COMPARED_HEADERS.map((name) => [name, response.headers[name]])),
    body: response.body,
  };
}

async function metricLines(app: FastifyInstance, pattern: RegExp): Promise<string[]> {
  const response = await app.inject({ method: 'GET', url: '/metrics' });
  return response.body.split('\n').filter((line) => pattern.test(line));
}

async function offloadedCount(app: FastifyInstance): Promise<number> {
  const [line] = await metricLines(app, /^divy_offloaded_requests_total /);
  return Number(line?.split(' ')[1]);
}

// Bodies: near-valid jobs of each route, then every kind of client mistake made of them.

const assignmentArb: fc.Arbitrary<WorkerAssignment> = fc
  .record({
    worker_id: fc.string({ minLength: 1, maxLength: 6 }),
    execution_time_ms: fc.integer({ min: 0, max: 5000 }),
    assigned_capacity_units: fc.integer({ min: 1, max: 16 }),
    shard_column_start: fc.integer({ min: 0, max: 8191 }),
    width: fc.integer({ min: 1, max: 4096 }),
    available_memory_bytes: fc.integer({ min: 1, max: 2 ** 36 }),
  })
  .map(({ width, ...assignment }) => ({ ...assignment, shard_column_end: assignment.shard_column_start + width }));

/** Up to 6 assignments: past the 4 the policy allows is a 422. */
const assignmentsArb = fc.oneof(fc.constant(REALTIME_DELTA_EXAMPLE.assignments), fc.array(assignmentArb, { minLength: 0, maxLength: 6 }));
const versionArb = fc.constantFrom(undefined, 'divy-credit-1', 'divy-credit-0');
/** Counters near the examples' (accounted 24 to 160, reserved 256), past the reservation at times. */
const tokensArb = fc.integer({ min: 0, max: 300 });

const realtimeDeltaArb = fc
  .record({ frontier: tokensArb, accounted: fc.oneof(fc.constant(0), tokensArb), reserved: fc.oneof(fc.constant(256), tokensArb), assignments: assignmentsArb, version: versionArb, prompt: fc.boolean() })
  .map(({ frontier, accounted, reserved, assignments, version, prompt }) => ({
    ...REALTIME_DELTA_EXAMPLE,
    frontier_completion_tokens: frontier,
    accounted_completion_tokens: accounted,
    reserved_completion_tokens: reserved,
    prompt_credits_accounted: prompt,
    assignments,
    ...(version === undefined ? {} : { policy_version: version }),
  }));

const contributionArb = fc.record({ completion: tokensArb, assignments: assignmentsArb, version: versionArb }).map(({ completion, assignments, version }) => ({
  ...CONTRIBUTION_EXAMPLE,
  completion_tokens: completion,
  assignments,
  ...(version === undefined ? {} : { policy_version: version }),
}));

const settleArb = fc
  .record({ actual: tokensArb, accounted: tokensArb, reserved: tokensArb, assignments: assignmentsArb, version: versionArb })
  .map(({ actual, accounted, reserved, assignments, version }) => ({
    ...SETTLE_EXAMPLE,
    actual_completion_tokens: actual,
    accounted_completion_tokens: accounted,
    reserved_completion_tokens: reserved,
    assignments,
    ...(version === undefined ? {} : { policy_version: version }),
  }));

const batchArb = fc.array(fc.oneof(realtimeDeltaArb, fc.jsonValue()), { maxLength: 4 }).map((updates) => ({ updates }));

const VALID_ISH: Record<OffloadedRoute, fc.Arbitrary<unknown>> = {
  '/realtime-delta': realtimeDeltaArb,
  '/contribution': contributionArb,
  '/settle': settleArb,
  '/realtime-delta/batch': batchArb,
};

/** A field set to any JSON value (a schema error, usually), or dropped. */
function mutated(value: unknown): fc.Arbitrary<unknown> {
  const keys = Object.keys(value as object);
  return fc.record({ key: fc.constantFrom(...keys), replacement: fc.option(fc.jsonValue()) }).map(({ key, replacement }) => {
    const copy: Record<string, unknown> = { ...(value as object) };
    if (replacement === null) delete copy[key];
    else copy[key] = replacement;
    return copy;
  });
}

const FORBIDDEN_KEYS = ['"__proto__":{"polluted":true}', '"constructor":{"prototype":{"polluted":true}}', '"\\u005f_proto__":1'];

/** The raw bytes of a body: as JSON, or broken in one of the ways a client breaks bodies. */
function bodyBytesArb(route: OffloadedRoute): fc.Arbitrary<Buffer> {
  return VALID_ISH[route].chain((value) => {
    const text = JSON.stringify(value);
    return fc.oneof(
      fc.constant(Buffer.from(text)),
      mutated(value).map((changed) => Buffer.from(JSON.stringify(changed))),
      fc.jsonValue().map((other) => Buffer.from(JSON.stringify(other))),
      // Malformed JSON, the empty body among them.
      fc.nat({ max: text.length - 1 }).map((length) => Buffer.from(text.slice(0, length))),
      // Bytes that are not UTF-8.
      fc.nat({ max: text.length }).map((at) => Buffer.concat([Buffer.from(text.slice(0, at)), Buffer.from([0xff]), Buffer.from(text.slice(at))])),
      // A forbidden key at the top, or inside the first object after it.
      fc.record({ key: fc.constantFrom(...FORBIDDEN_KEYS), nested: fc.boolean() }).map(({ key, nested }) => {
        const at = nested ? text.indexOf('{', 1) : 0;
        return Buffer.from(at < 0 ? `{${key}}` : `${text.slice(0, at + 1)}${key},${text.slice(at + 1)}`);
      }),
    );
  });
}

/** The seed of the parity property: fixed, so that its bodies, and the statuses they reach, are the same on every run. */
const PARITY_SEED = 20_261_125;

const acceptArb = fc.constantFrom(undefined, 'application/json', 'text/csv', 'text/csv;q=0.5, application/json', 'text/*');

describe('an app that answers every body in the pool', () => {
  const offloaded = useApp({ settings: SETTINGS, batch_max_updates: BATCH_MAX_UPDATES, offload: OFFLOAD_ALL });
  const inline = useApp({ settings: SETTINGS, batch_max_updates: BATCH_MAX_UPDATES });

  it.each(OFFLOADED_ROUTES)('answers %s exactly as inline, for valid bodies and every kind of client mistake', async (route) => {
    const statuses = new Set<number>();
    await fc.assert(
      fc.asyncProperty(bodyBytesArb(route), acceptArb, async (body, accept) => {
        const [fromPool, fromLoop] = await Promise.all([post(offloaded(), route, body, accept), post(inline(), route, body, accept)]);
        statuses.add(fromLoop.statusCode);
        expect(answerOf(fromPool)).toStrictEqual(answerOf(fromLoop));
      }),
      { numRuns: 150, seed: PARITY_SEED },
    );
    // The bodies reached answers, refusals of the schema and of the policy alike.
    expect(statuses).toContain(200);
    expect(statuses).toContain(400);
    expect(statuses).toContain(422);
  });

  it.each([
    ['malformed JSON', '{"prompt_tokens":', 'urn:divy:problem:malformed-json'],
    ['an empty body', '', 'urn:divy:problem:malformed-json'],
    ['bytes that are not UTF-8', Buffer.from([0x7b, 0xff, 0x7d]), 'urn:divy:problem:malformed-json'],
    ['a nested __proto__', JSON.stringify({ ...REALTIME_DELTA_EXAMPLE, assignments: [{ worker_id: 'w' }] }).replace('[{', '[{"__proto__":{},'), 'urn:divy:problem:forbidden-key'],
    ['constructor.prototype', `{"constructor":{"prototype":{}}}`, 'urn:divy:problem:forbidden-key'],
    ['a schema error', JSON.stringify({ ...REALTIME_DELTA_EXAMPLE, prompt_tokens: 'many', extra: 1 }), 'urn:divy:problem:invalid-request'],
    ['too many assignments', JSON.stringify({ ...REALTIME_DELTA_EXAMPLE, assignments: Array.from({ length: 5 }, () => ({})) }), 'urn:divy:problem:policy-rule-violation'],
    ['a rule violation', JSON.stringify({ ...REALTIME_DELTA_EXAMPLE, total_columns: 10 }), 'urn:divy:problem:policy-rule-violation'],
    ['a frontier past the reservation', JSON.stringify({ ...REALTIME_DELTA_EXAMPLE, reserved_completion_tokens: 30 }), 'urn:divy:problem:reservation-exceeded'],
    ['an unknown policy version', JSON.stringify({ ...REALTIME_DELTA_EXAMPLE, policy_version: 'divy-credit-0' }), 'urn:divy:problem:policy-rule-violation'],
  ])('answers %s with the problem body inline answers', async (_name, body, type) => {
    const [fromPool, fromLoop] = await Promise.all([post(offloaded(), '/realtime-delta', body), post(inline(), '/realtime-delta', body)]);
    expect(fromLoop.json<{ type: string }>().type).toBe(type);
    expect(answerOf(fromPool)).toStrictEqual(answerOf(fromLoop));
  });

  it('answers 204 when nothing is new', async () => {
    const body = JSON.stringify({ ...REALTIME_DELTA_EXAMPLE, accounted_completion_tokens: REALTIME_DELTA_EXAMPLE.frontier_completion_tokens });
    const [fromPool, fromLoop] = await Promise.all([post(offloaded(), '/realtime-delta', body), post(inline(), '/realtime-delta', body)]);
    expect(fromLoop.statusCode).toBe(204);
    expect(answerOf(fromPool)).toStrictEqual(answerOf(fromLoop));
  });

  it('counts credits and problems in the metrics exactly as inline', async () => {
    const pattern = /^divy_(credits_burned_total|credits_paid_total|problems_total)/;
    const [fromPool, fromLoop] = await Promise.all([metricLines(offloaded(), pattern), metricLines(inline(), pattern)]);
    expect(fromPool.find((line) => line.startsWith('divy_credits_burned_total'))).not.toBe('divy_credits_burned_total 0');
    expect(fromPool).toStrictEqual(fromLoop);
  });
});

/** Whether an answer's signature verifies with `publicKey`, covering every component Divy signs. */
async function signatureVerifies(publicKey: KeyObject, response: LightMyRequestResponse): Promise<boolean> {
  const headers = Object.fromEntries(Object.entries(response.headers).map(([name, value]) => [name, String(value)]));
  const verify = createVerifier(publicKey, 'ed25519');
  const result = await httpbis.verifyMessage(
    { keyLookup: async () => ({ id: 'any', algs: ['ed25519'], verify }), requiredFields: [...SIGNED_COMPONENTS], requiredParams: ['keyid', 'alg'] },
    { status: response.statusCode, headers },
  );
  return result === true;
}

describe('signed answers from the pool', () => {
  const { privateKey } = generateKeyPairSync('ed25519');
  const publicKey = createPublicKey(privateKey);
  const offloaded = useApp({ signing_key: privateKey, offload: OFFLOAD_ALL });
  const inline = useApp({ signing_key: privateKey });

  it.each([
    ['/realtime-delta', 'application/json', REALTIME_DELTA_EXAMPLE],
    ['/realtime-delta', 'text/csv', REALTIME_DELTA_EXAMPLE],
    ['/contribution', 'application/json', CONTRIBUTION_EXAMPLE],
    ['/settle', 'application/json', SETTLE_EXAMPLE],
    ['/realtime-delta/batch', 'application/json', { updates: [REALTIME_DELTA_EXAMPLE, {}] }],
  ] as const)('signs %s (Accept %s) as inline, and the signature verifies', async (route, accept, body) => {
    // Unusual spacing: the request digest covers the bytes as received, not a re-serialization.
    const bytes = ` ${JSON.stringify(body, null, '\t')}\r\n`;
    const [fromPool, fromLoop] = await Promise.all([post(offloaded(), route, bytes, accept), post(inline(), route, bytes, accept)]);
    expect(fromPool.statusCode).toBe(200);
    expect(fromPool.headers['signature']).toBeDefined();
    expect(answerOf(fromPool)).toStrictEqual(answerOf(fromLoop));
    expect(await signatureVerifies(publicKey, fromPool)).toBe(true);
    expect(await signatureVerifies(publicKey, fromLoop)).toBe(true);
  });
});

describe('which bodies go to the pool', () => {
  const threshold = JSON.stringify(REALTIME_DELTA_EXAMPLE).length + 1;
  const app = useApp({ offload: { threads: 1, min_body_bytes: threshold } });

  it('answers a body under OFFLOAD_MIN_BODY_BYTES inline, and one of that size in the pool', async () => {
    const before = await offloadedCount(app());
    const small = await post(app(), '/realtime-delta', JSON.stringify(REALTIME_DELTA_EXAMPLE));
    expect(small.statusCode).toBe(200);
    expect(await offloadedCount(app())).toBe(before);
    const large = await post(app(), '/realtime-delta', `${JSON.stringify(REALTIME_DELTA_EXAMPLE)} `);
    expect(large.body).toBe(small.body);
    expect(await offloadedCount(app())).toBe(before + 1);
  });

  it('answers other routes inline, however large their bodies', async () => {
    const before = await offloadedCount(app());
    const quote = await post(app(), '/quote', `${JSON.stringify({ prompt_tokens: 1, requested_completion_tokens: 1, total_model_bytes: 1 })}${' '.repeat(threshold)}`);
    expect(quote.statusCode).toBe(200);
    expect(await offloadedCount(app())).toBe(before);
  });
});

/** The nice value of each thread of this process, by thread id (Linux: /proc/self/task/<tid>/stat, field 19). */
function threadNiceValues(): Map<number, number> {
  const values = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    // The fields after the command name, which may hold spaces, start at the third: nice is the 19th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    values.set(Number(tid), Number(fields[19 - 3]));
  }
  return values;
}

describe.runIf(process.platform === 'linux')('the priority of the pool threads', () => {
  const app = useApp({ offload: { threads: 1, min_body_bytes: 0 } });

  it('is lower than the event loop\'s by OFFLOAD_THREAD_NICE_INCREMENT, so that small requests get the CPU first', async () => {
    const before = threadNiceValues();
    expect((await post(app(), '/realtime-delta', JSON.stringify(REALTIME_DELTA_EXAMPLE))).statusCode).toBe(200);
    const eventLoopNice = before.get(process.pid)!;
    const started = [...threadNiceValues()].filter(([tid]) => !before.has(tid));
    expect(started.map(([, nice]) => nice)).toContain(Math.min(19, eventLoopNice + OFFLOAD_THREAD_NICE_INCREMENT));
    expect(threadNiceValues().get(process.pid)).toBe(eventLoopNice);
  });
});

describe('an app without the offload option', () => {
  const app = useApp({ offload: { threads: 0, min_body_bytes: 0 } });

  it('answers every body inline when OFFLOAD_THREADS is 0', async () => {
    expect((await post(app(), '/realtime-delta', JSON.stringify(REALTIME_DELTA_EXAMPLE))).statusCode).toBe(200);
    expect(await metricLines(app(), /^divy_offloaded_requests_total/)).toStrictEqual([]);
  });
});

describe('a full queue of large jobs', () => {
  const app = useApp({ offload: { threads: 1, min_body_bytes: 0, max_queue: 1 }, load_shedding: undefined });

  it('sheds the requests past it with the 503 overloaded problem and Retry-After', async () => {
    const body = JSON.stringify({ ...CONTRIBUTION_EXAMPLE, assignments: Array.from({ length: 2000 }, (_, index) => ({ ...CONTRIBUTION_EXAMPLE.assignments[0]!, worker_id: `w${index}` })) });
    const responses = await Promise.all(Array.from({ length: 8 }, () => post(app(), '/contribution', body)));
    const shed = responses.filter((response) => response.statusCode === 503);
    const answered = responses.filter((response) => response.statusCode === 200);
    // One task runs, one waits: the other six are shed at once.
    expect(answered.length).toBeGreaterThanOrEqual(1);
    expect(shed.length).toBeGreaterThanOrEqual(1);
    expect(shed.length + answered.length).toBe(8);
    for (const response of shed) {
      expect(response.headers['retry-after']).toBe('1');
      expect(response.headers['content-type']).toBe('application/problem+json; charset=utf-8');
      expect(response.json()).toStrictEqual({
        type: 'urn:divy:problem:overloaded',
        title: 'Service Unavailable',
        status: 503,
        detail: 'The service is shedding load (queue of large jobs over its limit); retry after 1 s (Retry-After), or on another replica.',
        request_id: 'offload-parity',
      });
    }
    expect(await metricLines(app(), /^divy_shed_requests_total /)).toStrictEqual([`divy_shed_requests_total ${shed.length}`]);
  });
});

describe('closing an app with jobs in its pool', () => {
  it('answers the jobs in flight before the pool closes', async () => {
    const app = await buildApp({ offload: OFFLOAD_ALL });
    await app.ready();
    const expected = JSON.stringify(computeRealtimeDelta(REALTIME_DELTA_EXAMPLE));
    const inFlight = Array.from({ length: 3 }, () => post(app, '/realtime-delta', JSON.stringify(REALTIME_DELTA_EXAMPLE)));
    // Let the requests reach the pool (the body is parsed there) before the close starts.
    await new Promise((resolve) => setTimeout(resolve, 20));
    await app.close();
    const answers = await Promise.all(inFlight);
    expect(answers.map((answer) => [answer.statusCode, answer.body])).toStrictEqual(answers.map(() => [200, expected]));
  });
});

describe('a bug while answering a task', () => {
  const answerers = offloadedAnswerers(catalogOfOne(SETTINGS), apiSchemas(catalogOfOne(SETTINGS)));
  const parseJson = jsonTextParserOf(Fastify());
  const task = (body: string) => ({ route: '/settle' as const, body: new TextEncoder().encode(body), request_id: 'r', csv: false });

  it('fails the task, which the app answers as a bug (500), instead of passing for a client mistake', () => {
    const failing = { ...answerers, '/settle': { ...answerers['/settle'], answerer: { ...answerers['/settle'].answerer, price: () => { throw new TypeError('internal detail'); } } } };
    expect(() => answerTask(task(JSON.stringify(SETTLE_EXAMPLE)), failing, parseJson)).toThrow('internal detail');
    // The same body is answered when nothing fails.
    expect(answerTask(task(JSON.stringify(SETTLE_EXAMPLE)), answerers, parseJson).status).toBe(200);
  });
});

describe('the real process', () => {
  const { start } = useServiceProcesses();

  it('answers a 10000-worker delta in its pool, from dist/', async () => {
    // Never shed on event-loop delay: a busy test machine must not turn the answer into a 503.
    const server = start({ OFFLOAD_THREADS: '1', SHED_MAX_EVENT_LOOP_DELAY_MS: '0' });
    const { port } = await listeningPort(server);
    const assignments = Array.from({ length: 10_000 }, (_, index) => ({
      ...REALTIME_DELTA_EXAMPLE.assignments[index % 2]!,
      worker_id: `worker-${index}`,
      shard_column_start: index,
      shard_column_end: index + 1,
    }));
    const job = { ...REALTIME_DELTA_EXAMPLE, total_columns: 10_000, assignments };
    const body = JSON.stringify(job);
    expect(body.length).toBeGreaterThan(32_768);
    const answer = await withTimeout(postOver(port, '/realtime-delta', body), 20_000, 'the answer');
    expect(answer.status, answer.body).toBe(200);
    expect(answer.body).toBe(JSON.stringify(computeRealtimeDelta(job)));
    const metrics = await withTimeout(postOver(port, '/metrics', undefined), 10_000, 'the metrics');
    expect(metrics.body).toMatch(/^divy_offloaded_requests_total 1$/m);
    server.child.kill('SIGTERM');
    expect(await withTimeout(server.exited, 10_000, 'the exit')).toBe(0);
  });
});

/** A POST (or a GET without a body) over a fresh connection. */
function postOver(port: number, path: string, body: string | undefined): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: '127.0.0.1', port, path, method: body === undefined ? 'GET' : 'POST', agent: false, headers: body === undefined ? {} : { 'content-type': 'application/json' } }, (response) => {
      readBody(response).then((text) => resolve({ status: response.statusCode ?? 0, body: text }), reject);
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

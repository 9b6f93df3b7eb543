/** Request ids, the one log line per request, and readiness while the app closes. */
import { captureLogLines } from '../support/log-lines.js';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { QUOTE_EXAMPLE } from '../../src/http/schemas/examples.js';
import { JSON_CONTENT_TYPE, postJson, postRaw, PROBLEM_CONTENT_TYPE, useApp } from '../support/http.js';
import { openRawConnection, waitFor, type RawConnection } from '../support/raw-http.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('x-request-id', () => {
  const app = useApp();

  it.each([
    ['a short id', 'abc-123'],
    ['every allowed character', 'Trace:a.b_c/d+e=f@g-0'],
    ['128 characters', 'x'.repeat(128)],
  ])('honours a well-formed incoming id: %s', async (_name, id) => {
    const response = await postJson(app(), '/quote', QUOTE_EXAMPLE, { 'x-request-id': id });
    expect(response.statusCode).toBe(200);
    expect(response.headers['x-request-id']).toBe(id);
  });

  it('puts the honoured id in problem bodies too', async () => {
    const response = await postJson(app(), '/quote', { nope: 1 }, { 'x-request-id': 'caller-42' });
    expect(response.headers['x-request-id']).toBe('caller-42');
    expect(response.json()).toMatchObject({ status: 400, request_id: 'caller-42' });
  });

  it.each([
    ['with spaces', 'has spaces in it'],
    ['129 characters', 'x'.repeat(129)],
    ['markup', '<script>'],
    ['a semicolon', 'a;b'],
    ['empty', ''],
  ])('replaces a malformed id with a fresh UUID: %s', async (_name, id) => {
    const response = await app().inject({ method: 'GET', url: '/nowhere', headers: { 'x-request-id': id } });
    const replaced = response.headers['x-request-id'];
    expect(replaced).toMatch(UUID_V4);
    expect(response.json()).toMatchObject({ status: 404, request_id: replaced });
  });

  it('gives every request without an id a distinct UUID, on every kind of reply', async () => {
    const responses = await Promise.all([
      app().inject({ method: 'GET', url: '/healthz' }),
      app().inject({ method: 'GET', url: '/policy' }),
      app().inject({ method: 'GET', url: '/docs/json' }),
      app().inject({ method: 'GET', url: '/nowhere' }),
      postJson(app(), '/quote', QUOTE_EXAMPLE),
      postRaw(app(), '/quote', '{', 'application/json'),
      postRaw(app(), '/quote', 'x', 'text/plain'),
    ]);
    const ids = responses.map((response) => response.headers['x-request-id']);
    for (const id of ids) expect(id).toMatch(UUID_V4);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly request_id?: string;
  readonly method?: string;
  readonly url?: string;
  readonly status_code?: number;
  readonly response_time_ms?: number;
  readonly problem_type?: string;
  readonly err?: { readonly message: string };
}

describe('request logs', () => {
  const { lines, stream } = captureLogLines();
  const app = useApp({ logger: pino({ level: 'info' }, stream) }, (built) => {
    built.get('/boom', async () => {
      throw new Error('secret internals');
    });
  });

  afterEach(() => {
    lines.length = 0;
  });

  const logged = () => lines.map((line) => JSON.parse(line) as LogLine);

  it('logs nothing while starting without listening', () => {
    expect(lines).toEqual([]);
  });

  it('writes exactly one "request completed" line per request, with id, method, url, status, time and any problem type', async () => {
    const requests = [
      { id: 'log-1', send: () => app().inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'log-1' } }) },
      { id: 'log-2', send: () => postJson(app(), '/quote', QUOTE_EXAMPLE, { 'x-request-id': 'log-2' }) },
      { id: 'log-3', send: () => postJson(app(), '/quote', { nope: 1 }, { 'x-request-id': 'log-3' }) },
      { id: 'log-4', send: () => app().inject({ method: 'GET', url: '/policy?token=secret-1', headers: { 'x-request-id': 'log-4' } }) },
      { id: 'log-5', send: () => app().inject({ method: 'DELETE', url: '/quote', headers: { 'x-request-id': 'log-5' } }) },
    ];
    for (const request of requests) await request.send();

    const entries = logged();
    expect(entries).toHaveLength(requests.length);
    expect(
      entries.map(({ request_id, method, url, status_code, problem_type, msg, level }) => ({ request_id, method, url, status_code, problem_type, msg, level })),
    ).toEqual([
      { request_id: 'log-1', method: 'GET', url: '/healthz', status_code: 200, problem_type: undefined, msg: 'request completed', level: 30 },
      { request_id: 'log-2', method: 'POST', url: '/quote', status_code: 200, problem_type: undefined, msg: 'request completed', level: 30 },
      { request_id: 'log-3', method: 'POST', url: '/quote', status_code: 400, problem_type: 'urn:divy:problem:invalid-request', msg: 'request completed', level: 30 },
      { request_id: 'log-4', method: 'GET', url: '/policy', status_code: 200, problem_type: undefined, msg: 'request completed', level: 30 },
      { request_id: 'log-5', method: 'DELETE', url: '/quote', status_code: 404, problem_type: 'urn:divy:problem:not-found', msg: 'request completed', level: 30 },
    ]);
    // The query string, which may carry a secret, is in no line.
    expect(lines.join('\n')).not.toContain('secret-1');
    for (const entry of entries) {
      expect(entry.response_time_ms).toEqual(expect.any(Number));
      expect(entry.response_time_ms).toBeGreaterThanOrEqual(0);
    }
  });

  it('logs the generated id when the caller sent none', async () => {
    const response = await app().inject({ method: 'GET', url: '/readyz' });
    const entries = logged();
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ request_id: response.headers['x-request-id'], url: '/readyz', status_code: 200 });
  });

  it('logs a bug in full under the request id and problem type, besides the one completion line, at error level', async () => {
    const response = await app().inject({ method: 'GET', url: '/boom', headers: { 'x-request-id': 'log-bug' } });
    expect(response.statusCode).toBe(500);
    const entries = logged();
    expect(entries).toHaveLength(2);
    const failure = entries.find((entry) => entry.msg === 'request failed on a bug');
    expect(failure).toMatchObject({ level: 50, request_id: 'log-bug', problem_type: 'about:blank', err: { message: 'secret internals' } });
    const completions = entries.filter((entry) => entry.msg === 'request failed');
    expect(completions).toEqual([
      expect.objectContaining({ level: 50, request_id: 'log-bug', method: 'GET', url: '/boom', status_code: 500, problem_type: 'about:blank' }),
    ]);
  });
});

describe('/readyz while the app runs', () => {
  const app = useApp();

  it('answers 200 {status: "ready"}', async () => {
    const response = await app().inject({ method: 'GET', url: '/readyz' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe(JSON_CONTENT_TYPE);
    expect(response.json()).toStrictEqual({ status: 'ready' });
  });
});

describe('/readyz while the app closes', () => {
  // This test listens and closes its app itself, in the middle of the test, so it builds its own.
  it('answers every other route with a 503 shutting-down problem while the app closes, but /healthz still with 200', async () => {
    // inject() is refused by Fastify once close() has begun, so requests arriving during the
    // close come over real connections whose request headers were started before it.
    const app = await buildApp();
    const connections: RawConnection[] = [];
    try {
      await app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = app.server.address() as AddressInfo;
      const ready = await openRawConnection(port);
      const quote = await openRawConnection(port);
      const health = await openRawConnection(port);
      connections.push(ready, quote, health);
      // A started request keeps its connection busy, so closing does not drop it as idle.
      ready.write('GET /readyz HTTP/1.1\r\nHost: localhost\r\n');
      quote.write('POST /quote HTTP/1.1\r\nHost: localhost\r\n');
      // The liveness probe is matched by route, so a query string does not make it shed.
      health.write('GET /healthz?probe=1 HTTP/1.1\r\nHost: localhost\r\n');
      await new Promise((resolve) => setTimeout(resolve, 200));

      const closed = app.close();
      await waitFor(() => !app.server.listening, 'the server to stop listening');
      ready.write('x-request-id: closing-1\r\n\r\n');
      const body = JSON.stringify(QUOTE_EXAMPLE);
      quote.write(`x-request-id: closing-2\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
      health.write('x-request-id: closing-3\r\n\r\n');

      const [readyResponse, quoteResponse, healthResponse] = await Promise.all([ready.response, quote.response, health.response]);
      await closed;

      for (const [response, id] of [
        [readyResponse, 'closing-1'],
        [quoteResponse, 'closing-2'],
      ] as const) {
        expect(response.status).toBe(503);
        expect(response.headers['content-type']).toBe(PROBLEM_CONTENT_TYPE);
        expect(response.headers['connection']).toBe('close');
        expect(response.headers['x-request-id']).toBe(id);
        expect(JSON.parse(response.body)).toStrictEqual({
          type: 'urn:divy:problem:shutting-down',
          title: 'Service Unavailable',
          status: 503,
          detail: 'The service is shutting down; retry on another replica.',
          request_id: id,
        });
      }
      expect(healthResponse.status).toBe(200);
      expect(JSON.parse(healthResponse.body)).toStrictEqual({ status: 'ok' });
    } finally {
      for (const connection of connections) connection.destroy();
      await app.close();
    }
  });
});

/**
 * Connection limits against a real listening app on 127.0.0.1: stalled clients are cut in bounded
 * time, logged, and answered with problem bodies; connection-level errors answer problem+json; the
 * connection cap refuses the connection past it. Every limit here is small so the tests are fast.
 */
import { request } from 'node:http';
import { connect } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import type { ConnectionLimits } from '../../src/http/connection-limits.js';
import { delay, openRawConnection, waitFor, type RawResponse } from '../support/raw-http.js';

const PROBLEM = 'application/problem+json; charset=utf-8';

interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [key: string]: unknown;
}

interface Listening {
  readonly app: FastifyInstance;
  readonly port: number;
  readonly lines: LogLine[];
  readonly raw: string[];
}

const apps: FastifyInstance[] = [];

afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

async function listen(limits: Partial<ConnectionLimits>): Promise<Listening> {
  const raw: string[] = [];
  const lines: LogLine[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void (raw.push(line), lines.push(JSON.parse(line) as LogLine)) });
  const app = await buildApp({ logger, connection_limits: limits });
  apps.push(app);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('not listening on a TCP port');
  return { app, port: address.port, lines, raw };
}

function problemOf(response: RawResponse): Record<string, unknown> {
  expect(response.headers['content-type']).toBe(PROBLEM);
  return JSON.parse(response.body) as Record<string, unknown>;
}

const warnings = (lines: readonly LogLine[]) => lines.filter((line) => line.level === 40);

describe('timeouts', () => {
  it('cuts a body that stalls with a 408 problem naming the request, in bounded time, and logs it', async () => {
    const { port, lines, raw } = await listen({ request_timeout_ms: 300, headers_timeout_ms: 200 });
    const connection = await openRawConnection(port, '127.0.0.1', 3000);
    const started = Date.now();
    connection.write(
      'POST /quote?secret=q1 HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 100\r\nx-request-id: stall-1\r\n\r\n{"secret_body":',
    );
    const response = await connection.response;
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(1500);
    expect(response.status).toBe(408);
    expect(response.headers['x-request-id']).toBe('stall-1');
    expect(problemOf(response)).toStrictEqual({
      type: 'urn:divy:problem:request-timeout',
      title: 'Request Timeout',
      status: 408,
      detail: 'The request body did not arrive within the configured limit (REQUEST_TIMEOUT_MS, 300 ms); the connection is closed.',
      request_id: 'stall-1',
    });
    await waitFor(() => warnings(lines).length > 0, 'the warn line');
    expect(warnings(lines)[0]).toMatchObject({
      request_id: 'stall-1',
      remote_address: '127.0.0.1',
      error_code: 'ERR_HTTP_REQUEST_TIMEOUT',
      status_code: 408,
      msg: 'closing client connection: request timeout: the body did not arrive in time',
    });
    const logged = raw.join('');
    expect(logged).not.toContain('secret_body');
    expect(logged).not.toContain('secret=q1');
  });

  it('closes a connection that sends nothing once the headers timeout passes', async () => {
    const { port, lines } = await listen({ request_timeout_ms: 300, headers_timeout_ms: 200 });
    const connection = await openRawConnection(port, '127.0.0.1', 3000);
    const started = Date.now();
    const response = await connection.response;
    expect(Date.now() - started).toBeLessThan(1500);
    expect(response.status).toBe(408);
    expect(response.headers['x-request-id']).toBeUndefined();
    expect(problemOf(response)).toStrictEqual({
      type: 'urn:divy:problem:request-timeout',
      title: 'Request Timeout',
      status: 408,
      detail: 'The request headers did not arrive within the configured limit (HEADERS_TIMEOUT_MS, 200 ms); the connection is closed.',
    });
    await waitFor(() => warnings(lines).length > 0, 'the warn line');
    expect(warnings(lines)).toEqual([
      expect.objectContaining({ remote_address: '127.0.0.1', status_code: 408, msg: 'closing client connection: headers timeout: the request line and headers did not arrive in time' }),
    ]);
  });

  it('gives the server the configured limits', async () => {
    const { app } = await listen({ request_timeout_ms: 700, headers_timeout_ms: 400, keep_alive_timeout_ms: 650, max_connections: 7 });
    expect(app.server.requestTimeout).toBe(700);
    expect(app.server.headersTimeout).toBe(400);
    expect(app.server.keepAliveTimeout).toBe(650);
    expect(app.server.maxConnections).toBe(7);
    expect(app.server.timeout).toBe(1400);
  });

  it('closes an idle kept-alive connection after the keep-alive timeout', async () => {
    const { port } = await listen({ keep_alive_timeout_ms: 200 });
    const connection = await openRawConnection(port, '127.0.0.1', 3000);
    const started = Date.now();
    connection.write('GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n');
    const response = await connection.response;
    expect(response.status).toBe(200);
    // Node announces whole seconds, rounded down, and closes the idle socket within about a second more.
    expect(response.headers['keep-alive']).toBe('timeout=0');
    expect(Date.now() - started).toBeLessThan(2500);
  });
});

describe('connection-level errors answer problem+json', () => {
  it('a garbage request line gets a 400 problem', async () => {
    const { port, lines } = await listen({});
    const connection = await openRawConnection(port);
    connection.write('GARBAGE GARBAGE GARBAGE\r\n\r\n');
    const response = await connection.response;
    expect(response.status).toBe(400);
    expect(problemOf(response)).toStrictEqual({
      type: 'urn:divy:problem:malformed-request',
      title: 'Bad Request',
      status: 400,
      detail: 'The request is not well-formed HTTP/1.1. The request never reached the service, so it has no request id.',
    });
    expect(warnings(lines)).toEqual([expect.objectContaining({ remote_address: '127.0.0.1', status_code: 400, error_code: expect.stringMatching(/^HPE_/) })]);
    expect(JSON.stringify(lines)).not.toContain('GARBAGE');
  });

  it('an oversized header block gets a 431 problem', async () => {
    const { port, lines } = await listen({});
    const connection = await openRawConnection(port);
    connection.write(`GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`);
    const response = await connection.response;
    expect(response.status).toBe(431);
    expect(problemOf(response)).toMatchObject({ type: 'urn:divy:problem:headers-too-large', title: 'Request Header Fields Too Large', status: 431 });
    expect(warnings(lines)).toEqual([expect.objectContaining({ status_code: 431, error_code: 'HPE_HEADER_OVERFLOW' })]);
    expect(JSON.stringify(lines)).not.toContain('aaaaaaaa');
  });

  it('an Expect header other than 100-continue gets a 417 problem', async () => {
    const { port } = await listen({});
    const connection = await openRawConnection(port);
    connection.write('POST /quote HTTP/1.1\r\nhost: 127.0.0.1\r\nexpect: 200-ok\r\nx-request-id: expect-1\r\ncontent-length: 2\r\n\r\n{}');
    const response = await connection.response;
    expect(response.status).toBe(417);
    expect(response.headers['x-request-id']).toBe('expect-1');
    expect(problemOf(response)).toStrictEqual({
      type: 'urn:divy:problem:expectation-failed',
      title: 'Expectation Failed',
      status: 417,
      detail: 'The only expectation the service meets is Expect: 100-continue.',
      request_id: 'expect-1',
    });
  });
});

/** Resolves once a connection is closed by the server without an answer; rejects on an answer or after 2 s. */
function closedWithoutAnswer(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('the connection past MAX_CONNECTIONS stayed open'));
    }, 2000);
    socket.on('data', (chunk) => (received += String(chunk)));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      if (received === '') resolve();
      else reject(new Error(`answered: ${received}`));
    });
    socket.on('connect', () => socket.write('GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n'));
  });
}

function healthz(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: '127.0.0.1', port, path: '/healthz', agent: false }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

describe('MAX_CONNECTIONS', () => {
  it('refuses the connection past the cap, logs it, and serves again once others close', async () => {
    const { app, port, lines } = await listen({ max_connections: 5 });
    const held = await Promise.all(Array.from({ length: 5 }, () => openRawConnection(port)));
    await untilConnections(app, 5);
    await closedWithoutAnswer(port);
    expect(warnings(lines)).toEqual([
      expect.objectContaining({ msg: 'refusing connections: MAX_CONNECTIONS reached', max_connections: 5, dropped_connections: 1, remote_address: '127.0.0.1' }),
    ]);
    for (const connection of held) connection.destroy();
    await untilConnections(app, 0);
    expect(await healthz(port)).toBe(200);
  });
});

/** Resolves once the server holds `count` open connections; rejects after 2 s. */
async function untilConnections(app: FastifyInstance, count: number): Promise<void> {
  const deadline = Date.now() + 2000;
  for (;;) {
    const open = await new Promise<number>((resolve, reject) => app.server.getConnections((error, n) => (error ? reject(error) : resolve(n))));
    if (open === count) return;
    if (Date.now() > deadline) throw new Error(`the server holds ${open} connections, not ${count}`);
    await delay(10);
  }
}

/**
 * Load shedding: over a threshold, requests are refused at once with a 503 problem and
 * Retry-After; probes and /metrics still answer; once the process is back under its thresholds,
 * requests are served again. The figures at three times capacity are in BENCHMARKS.md.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { digestOf } from '../../src/http/auth.js';
import type { LoadShedding } from '../../src/http/load-shedding.js';
import { QUOTE_EXAMPLE } from '../../src/http/schemas/examples.js';
import { ID_HEADER, PROBLEM_CONTENT_TYPE, REQUEST_ID, postJson, useApp } from '../support/http.js';

const OPERATOR_TOKEN = 'operator-token-for-shedding';
/** Sampled often, so that a test waits little for the sampler to see what it did. */
const SAMPLE_INTERVAL_MS = 10;

function overloaded(pressure: string, retry_after_s: number) {
  return {
    type: 'urn:divy:problem:overloaded',
    title: 'Service Unavailable',
    status: 503,
    detail: `The service is shedding load (${pressure} over its limit); retry after ${retry_after_s} s (Retry-After), or on another replica.`,
    request_id: REQUEST_ID,
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Keeps the event loop busy: what a burst of work does to every request queued behind it. */
function blockEventLoop(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until);
}

/** The counter's value in the /metrics text. */
function shedCount(metricsText: string): number {
  const line = metricsText.split('\n').find((text) => text.startsWith('divy_shed_requests_total '));
  if (line === undefined) throw new Error('no divy_shed_requests_total sample');
  return Number(line.split(' ')[1]);
}

describe('load shedding on the heap: every request over the threshold is shed', () => {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString('utf8').split('\n').filter((line) => line.length > 0));
      callback();
    },
  });
  // A 1-byte heap threshold holds from the first sample on.
  const shedding: LoadShedding = { max_event_loop_delay_ms: 0, max_heap_used_bytes: 1, sample_interval_ms: SAMPLE_INTERVAL_MS, retry_after_s: 7 };
  const app = useApp({ load_shedding: shedding, logger: pino({ level: 'info' }, stream) });

  it('answers 503 with Retry-After and an overloaded problem, before reading the body', async () => {
    await sleep(5 * SAMPLE_INTERVAL_MS);
    // Not even JSON: a shed request is refused before its body is parsed.
    const response = await app().inject({ method: 'POST', url: '/quote', payload: '{not json', headers: { 'content-type': 'application/json', ...ID_HEADER } });
    expect(response.statusCode).toBe(503);
    expect(response.headers['content-type']).toBe(PROBLEM_CONTENT_TYPE);
    expect(response.headers['retry-after']).toBe('7');
    expect(response.headers['x-request-id']).toBe(REQUEST_ID);
    expect(response.json()).toStrictEqual(overloaded('heap in use', 7));
  });

  it('sheds every accounting and documentation route, and unknown paths', async () => {
    for (const url of ['/quote', '/settle', '/contribution', '/realtime-delta', '/realtime-delta/batch']) {
      expect((await postJson(app(), url, QUOTE_EXAMPLE)).statusCode).toBe(503);
    }
    for (const url of ['/policy', '/docs/json', '/.well-known/jwks.json', '/nowhere']) {
      expect((await app().inject({ method: 'GET', url })).statusCode).toBe(503);
    }
  });

  it('never sheds the probes or /metrics', async () => {
    for (const url of ['/healthz', '/readyz', '/metrics', '/healthz?probe=1']) {
      expect((await app().inject({ method: 'GET', url })).statusCode).toBe(200);
    }
  });

  it('counts each shed request in divy_shed_requests_total and in divy_problems_total', async () => {
    const before = shedCount((await app().inject({ method: 'GET', url: '/metrics' })).body);
    for (let index = 0; index < 3; index += 1) await postJson(app(), '/quote', QUOTE_EXAMPLE);
    const text = (await app().inject({ method: 'GET', url: '/metrics' })).body;
    expect(shedCount(text) - before).toBe(3);
    expect(text).toMatch(/^divy_problems_total\{type="urn:divy:problem:overloaded"\} \d+$/m);
  });

  it('logs a shed request on its one line with the request id and the problem type', async () => {
    lines.length = 0;
    await postJson(app(), '/quote', QUOTE_EXAMPLE, { 'x-request-id': 'shed-1' });
    const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      level: 30,
      msg: 'request completed',
      request_id: 'shed-1',
      url: '/quote',
      status_code: 503,
      problem_type: 'urn:divy:problem:overloaded',
    });
  });
});

describe('load shedding right after start', () => {
  // The first samples measure the app being built, not load.
  const shedding: LoadShedding = { max_event_loop_delay_ms: 0, max_heap_used_bytes: 1, sample_interval_ms: 200, retry_after_s: 1 };
  const app = useApp({ load_shedding: shedding });

  it('serves until two samples were taken after the app was ready, then sheds', async () => {
    expect((await postJson(app(), '/quote', QUOTE_EXAMPLE)).statusCode).toBe(200);
    await sleep(3 * shedding.sample_interval_ms);
    expect((await postJson(app(), '/quote', QUOTE_EXAMPLE)).statusCode).toBe(503);
  });
});

describe('load shedding with auth on', () => {
  const shedding: LoadShedding = { max_event_loop_delay_ms: 0, max_heap_used_bytes: 1, sample_interval_ms: SAMPLE_INTERVAL_MS, retry_after_s: 1 };
  const app = useApp({ load_shedding: shedding, auth_tokens: [{ role: 'operator', digest: digestOf(OPERATOR_TOKEN) }] });

  it('sheds before checking the token: refusing costs no more than it must', async () => {
    await sleep(5 * SAMPLE_INTERVAL_MS);
    const response = await postJson(app(), '/quote', QUOTE_EXAMPLE, ID_HEADER);
    expect(response.statusCode).toBe(503);
    expect(response.json()).toStrictEqual(overloaded('heap in use', 1));
  });

  it('answers the probes without a token', async () => {
    expect((await app().inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    const metrics = await app().inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } });
    expect(metrics.statusCode).toBe(200);
  });
});

describe('load shedding on event-loop delay: it starts with the delay and stops once the loop is free', () => {
  const shedding: LoadShedding = { max_event_loop_delay_ms: 50, max_heap_used_bytes: 0, sample_interval_ms: SAMPLE_INTERVAL_MS, retry_after_s: 2 };
  const app = useApp({ load_shedding: shedding });

  /** Polls until a quote is served: the loop is free once the sampler says so (the machine may be busy too). */
  async function servedWithinSamples(): Promise<boolean> {
    for (let attempt = 0; attempt < 200; attempt += 1) {
      await sleep(SAMPLE_INTERVAL_MS);
      if ((await postJson(app(), '/quote', QUOTE_EXAMPLE)).statusCode === 200) return true;
    }
    return false;
  }

  it('serves requests while the loop is free', async () => {
    expect(await servedWithinSamples()).toBe(true);
  });

  it('sheds after the loop was blocked, then serves again once it is free', async () => {
    // The sampler sees the delay on its first run after the block; poll for the refusal it causes.
    let shed: Awaited<ReturnType<typeof postJson>> | undefined;
    for (let attempt = 0; attempt < 20 && shed === undefined; attempt += 1) {
      blockEventLoop(300);
      await new Promise((resolve) => setImmediate(resolve));
      const response = await postJson(app(), '/quote', QUOTE_EXAMPLE, ID_HEADER);
      if (response.statusCode === 503) shed = response;
      else expect(response.statusCode).toBe(200);
    }
    expect(shed?.json()).toStrictEqual(overloaded('event-loop delay', 2));
    expect(shed?.headers['retry-after']).toBe('2');

    // Free again: within a few samples the delay is back under the threshold.
    expect(await servedWithinSamples()).toBe(true);
  });
});

describe('without load_shedding (the default of buildApp)', () => {
  const app = useApp();

  it('never sheds, however blocked the loop was', async () => {
    blockEventLoop(300);
    await sleep(5 * SAMPLE_INTERVAL_MS);
    expect((await postJson(app(), '/quote', QUOTE_EXAMPLE)).statusCode).toBe(200);
  });
});

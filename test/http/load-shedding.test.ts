/**
 * Load shedding: over a threshold, a share of requests (none on the heap) is refused at once with
 * a 503 problem and Retry-After, before Fastify sees them (so these tests use real connections:
 * inject() enters the app past that point); probes and /metrics still answer; once the process is
 * back under its thresholds, requests are served again. How the share moves is in
 * admission-share.test.ts; the figures at three times capacity are in BENCHMARKS.md.
 */
import { captureLogLines } from '../support/log-lines.js';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { digestOf } from '../../src/http/auth.js';
import type { LoadShedding } from '../../src/http/load-shedding.js';
import { QUOTE_EXAMPLE } from '../../src/http/schemas/examples.js';
import { fetchFrom, ID_HEADER, PROBLEM_CONTENT_TYPE, REQUEST_ID, useApp, useListening, type FetchedResponse } from '../support/http.js';

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
function sampleOf(metricsText: string, sample: string): number {
  const line = metricsText.split('\n').find((text) => text.startsWith(`${sample} `));
  if (line === undefined) throw new Error(`no ${sample} sample`);
  return Number(line.split(' ')[1]);
}

function expectShed(response: FetchedResponse, pressure: string, retry_after_s: number): void {
  expect(response.status).toBe(503);
  expect(response.headers.get('content-type')).toBe(PROBLEM_CONTENT_TYPE);
  expect(response.headers.get('retry-after')).toBe(String(retry_after_s));
  expect(response.headers.get('x-request-id')).toBe(REQUEST_ID);
  expect(JSON.parse(response.text)).toStrictEqual(overloaded(pressure, retry_after_s));
}

describe('load shedding on the heap: every request over the threshold is shed', () => {
  const { lines, stream } = captureLogLines();
  // A 1-byte heap threshold holds from the first sample on.
  const shedding: LoadShedding = { max_event_loop_delay_ms: 0, max_event_loop_utilization: 0, max_heap_used_bytes: 1, sample_interval_ms: SAMPLE_INTERVAL_MS, retry_after_s: 7 };
  const app = useApp({ load_shedding: shedding, logger: pino({ level: 'info' }, stream) });
  const origin = useListening(app);

  it('answers 503 with Retry-After and an overloaded problem, without reading the body', async () => {
    await sleep(5 * SAMPLE_INTERVAL_MS);
    // Not even JSON: a shed request is refused before its body is parsed.
    expectShed(await fetchFrom(origin(), 'POST', '/quote', '{not json', ID_HEADER), 'heap in use', 7);
  });

  it('sheds every accounting and documentation route, and unknown paths', async () => {
    for (const path of ['/quote', '/settle', '/contribution', '/realtime-delta', '/realtime-delta/batch']) {
      expectShed(await fetchFrom(origin(), 'POST', path, QUOTE_EXAMPLE, ID_HEADER), 'heap in use', 7);
    }
    for (const path of ['/policy', '/docs/json', '/console', '/.well-known/jwks.json', '/nowhere', '/quote?x=1']) {
      expect((await fetchFrom(origin(), 'GET', path)).status).toBe(503);
    }
  });

  it('never sheds the probes or /metrics', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics', '/healthz?probe=1']) {
      expect((await fetchFrom(origin(), 'GET', path)).status).toBe(200);
    }
  });

  it('counts each shed request in divy_shed_requests_total and in divy_problems_total', async () => {
    const overloadedProblems = 'divy_problems_total{type="urn:divy:problem:overloaded"}';
    const before = (await fetchFrom(origin(), 'GET', '/metrics')).text;
    for (let index = 0; index < 3; index += 1) await fetchFrom(origin(), 'POST', '/quote', QUOTE_EXAMPLE);
    const after = (await fetchFrom(origin(), 'GET', '/metrics')).text;
    expect(sampleOf(after, 'divy_shed_requests_total') - sampleOf(before, 'divy_shed_requests_total')).toBe(3);
    expect(sampleOf(after, overloadedProblems) - sampleOf(before, overloadedProblems)).toBe(3);
  });

  it('logs no line per shed request, but one warn line at most each second with how many were shed', async () => {
    await sleep(1100);
    lines.length = 0;
    for (let index = 0; index < 5; index += 1) await fetchFrom(origin(), 'POST', '/quote', QUOTE_EXAMPLE, { 'x-request-id': 'shed-1' });
    const entries = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    // The first of the five wrote the line, counting every request shed since the line before.
    expect(entries()).toHaveLength(1);
    expect(entries()[0]).toMatchObject({ level: 40, msg: 'shedding load', pressure: 'heap in use', problem_type: 'urn:divy:problem:overloaded' });
    expect(lines.join('\n')).not.toContain('shed-1');
    // A second later, the next one writes a line counting the four after that line, and itself.
    await sleep(1100);
    await fetchFrom(origin(), 'POST', '/quote', QUOTE_EXAMPLE);
    expect(entries()).toHaveLength(2);
    expect(entries()[1]).toMatchObject({ level: 40, msg: 'shedding load', shed_requests: 5 });
  });
});

describe('load shedding right after start', () => {
  // The first samples measure the app being built, not load.
  const shedding: LoadShedding = { max_event_loop_delay_ms: 0, max_event_loop_utilization: 0, max_heap_used_bytes: 1, sample_interval_ms: 200, retry_after_s: 1 };
  const app = useApp({ load_shedding: shedding });
  const origin = useListening(app);

  it('serves until two samples were taken after the app was ready, then sheds', async () => {
    expect((await fetchFrom(origin(), 'POST', '/quote', QUOTE_EXAMPLE)).status).toBe(200);
    await sleep(3 * shedding.sample_interval_ms);
    expect((await fetchFrom(origin(), 'POST', '/quote', QUOTE_EXAMPLE)).status).toBe(503);
  });
});

describe('load shedding with auth on', () => {
  const shedding: LoadShedding = { max_event_loop_delay_ms: 0, max_event_loop_utilization: 0, max_heap_used_bytes: 1, sample_interval_ms: SAMPLE_INTERVAL_MS, retry_after_s: 1 };
  const app = useApp({ load_shedding: shedding, auth_tokens: [{ role: 'operator', digest: digestOf(OPERATOR_TOKEN) }] });
  const origin = useListening(app);

  it('sheds before checking the token: refusing costs no more than it must', async () => {
    await sleep(5 * SAMPLE_INTERVAL_MS);
    expectShed(await fetchFrom(origin(), 'POST', '/quote', QUOTE_EXAMPLE, ID_HEADER), 'heap in use', 1);
  });

  it('answers the probes without a token, and /metrics with one', async () => {
    expect((await fetchFrom(origin(), 'GET', '/readyz')).status).toBe(200);
    expect((await fetchFrom(origin(), 'GET', '/metrics', undefined, { authorization: `Bearer ${OPERATOR_TOKEN}` })).status).toBe(200);
  });
});

describe('load shedding on event-loop delay: it starts with the delay and stops once the loop is free', () => {
  const shedding: LoadShedding = { max_event_loop_delay_ms: 50, max_event_loop_utilization: 0, max_heap_used_bytes: 0, sample_interval_ms: SAMPLE_INTERVAL_MS, retry_after_s: 2 };
  const app = useApp({ load_shedding: shedding });
  const origin = useListening(app);

  /** Polls until a quote is served: the loop is free once the sampler says so (the machine may be busy too). */
  async function servedWithinSamples(): Promise<boolean> {
    for (let attempt = 0; attempt < 200; attempt += 1) {
      await sleep(SAMPLE_INTERVAL_MS);
      if ((await fetchFrom(origin(), 'POST', '/quote', QUOTE_EXAMPLE)).status === 200) return true;
    }
    return false;
  }

  it('serves requests while the loop is free', async () => {
    expect(await servedWithinSamples()).toBe(true);
  });

  it('sheds after the loop was blocked, then serves again once it is free', async () => {
    // The sampler sees the delay on its first run after the block; poll for the refusal it causes.
    let shed: FetchedResponse | undefined;
    for (let attempt = 0; attempt < 20 && shed === undefined; attempt += 1) {
      blockEventLoop(300);
      await new Promise((resolve) => setImmediate(resolve));
      const response = await fetchFrom(origin(), 'POST', '/quote', QUOTE_EXAMPLE, ID_HEADER);
      if (response.status === 503) shed = response;
      else expect(response.status).toBe(200);
    }
    expect(shed).toBeDefined();
    expectShed(shed!, 'event-loop delay', 2);
    // Free again: within a few samples the delay is back under the threshold.
    expect(await servedWithinSamples()).toBe(true);
  });
});

/** Blocks the loop until a request is shed, and returns that answer; undefined if none was within 20 blocks. */
async function shedAfterBlocking(origin: string): Promise<FetchedResponse | undefined> {
  for (let attempt = 0; attempt < 20; attempt += 1) {
    blockEventLoop(300);
    // No timer runs between the block and the request: the sample is taken as the request comes.
    const response = await fetchFrom(origin, 'POST', '/quote', QUOTE_EXAMPLE, ID_HEADER);
    if (response.status === 503) return response;
    expect(response.status).toBe(200);
  }
  return undefined;
}

describe('load shedding on event-loop delay and utilization together', () => {
  const shedding: LoadShedding = { max_event_loop_delay_ms: 50, max_event_loop_utilization: 0.5, max_heap_used_bytes: 0, sample_interval_ms: SAMPLE_INTERVAL_MS, retry_after_s: 3 };
  const app = useApp({ load_shedding: shedding });
  const origin = useListening(app);

  it('sheds once the loop was both late and busy, naming the delay, and counts the share in divy_admitted_share', async () => {
    await sleep(5 * SAMPLE_INTERVAL_MS);
    expect(sampleOf((await fetchFrom(origin(), 'GET', '/metrics')).text, 'divy_admitted_share')).toBe(1);
    const shed = await shedAfterBlocking(origin());
    expect(shed).toBeDefined();
    expectShed(shed!, 'event-loop delay', 3);
    expect(sampleOf((await fetchFrom(origin(), 'GET', '/metrics')).text, 'divy_admitted_share')).toBeLessThan(1);
  });

  it('admits everything again once the loop is free: the share doubles each sample', async () => {
    let share = 0;
    for (let attempt = 0; attempt < 200 && share < 1; attempt += 1) {
      await sleep(SAMPLE_INTERVAL_MS);
      share = sampleOf((await fetchFrom(origin(), 'GET', '/metrics')).text, 'divy_admitted_share');
    }
    expect(share).toBe(1);
    expect((await fetchFrom(origin(), 'POST', '/quote', QUOTE_EXAMPLE)).status).toBe(200);
  });
});

/** Five times: blocks the loop for `block_ms`, then a quote is served; the share stays 1 throughout. */
async function expectEveryQuoteServedAfterBlocks(origin: string, block_ms: number): Promise<void> {
  await sleep(5 * SAMPLE_INTERVAL_MS);
  for (let attempt = 0; attempt < 5; attempt += 1) {
    blockEventLoop(block_ms);
    expect((await fetchFrom(origin, 'POST', '/quote', QUOTE_EXAMPLE)).status).toBe(200);
  }
  expect(sampleOf((await fetchFrom(origin, 'GET', '/metrics')).text, 'divy_admitted_share')).toBe(1);
}

describe('load shedding with no delay limit', () => {
  // SHED_MAX_EVENT_LOOP_DELAY_MS=0: the loop never sheds, however busy; utilization only qualifies the delay.
  const shedding: LoadShedding = { max_event_loop_delay_ms: 0, max_event_loop_utilization: 0.5, max_heap_used_bytes: 0, sample_interval_ms: SAMPLE_INTERVAL_MS, retry_after_s: 1 };
  const app = useApp({ load_shedding: shedding });
  const origin = useListening(app);

  it('sheds nothing after the loop was blocked', async () => {
    await expectEveryQuoteServedAfterBlocks(origin(), 300);
  });
});

describe('load shedding with the loop over one of its limits only', () => {
  // Busy (utilization over 0.5) but never late by an hour: the share holds at 1.
  const shedding: LoadShedding = { max_event_loop_delay_ms: 3_600_000, max_event_loop_utilization: 0.5, max_heap_used_bytes: 0, sample_interval_ms: SAMPLE_INTERVAL_MS, retry_after_s: 1 };
  const app = useApp({ load_shedding: shedding });
  const origin = useListening(app);

  it('sheds nothing: a busy loop whose requests do not wait serves clients that send as fast as they are answered', async () => {
    await expectEveryQuoteServedAfterBlocks(origin(), 100);
  });
});

describe('without load_shedding (the default of buildApp)', () => {
  const app = useApp();
  const origin = useListening(app);

  it('never sheds, however blocked the loop was', async () => {
    blockEventLoop(300);
    await sleep(5 * SAMPLE_INTERVAL_MS);
    expect((await fetchFrom(origin(), 'POST', '/quote', QUOTE_EXAMPLE)).status).toBe(200);
  });
});

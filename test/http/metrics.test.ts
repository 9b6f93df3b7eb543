/** GET /metrics: what each answer adds, per app, in a text that promtool accepts. */
import { spawnSync } from 'node:child_process';
import type { FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { postJson, postRaw, useApp } from '../support/http.js';

const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

// 32 GiB: a model size factor of exactly 1, so a token costs exactly one credit.
const ONE_CREDIT_PER_TOKEN_BYTES = 32 * 1024 ** 3;
const worker = (worker_id: string, shard_column_start: number, shard_column_end: number) => ({
  worker_id,
  execution_time_ms: 1000,
  assigned_capacity_units: 100,
  shard_column_start,
  shard_column_end,
  available_memory_bytes: ONE_CREDIT_PER_TOKEN_BYTES,
});
const job = { prompt_tokens: 10, total_model_bytes: ONE_CREDIT_PER_TOKEN_BYTES, total_columns: 10, assignments: [worker('a', 0, 4), worker('b', 4, 10)] };
/** Burns the prompt (10) and 5 completion tokens: 15 credits. */
const firstDelta = { ...job, frontier_completion_tokens: 5, accounted_completion_tokens: 0, prompt_credits_accounted: false, reserved_completion_tokens: 10 };
/** Nothing new: a 204. */
const nothingNew = { ...firstDelta, accounted_completion_tokens: 5, prompt_credits_accounted: true };
/** 2 tokens past the reservation: a 409. */
const pastReservation = { ...firstDelta, frontier_completion_tokens: 12 };
/** A final delta of 3 credits, split among the workers. */
const settlement = { ...job, actual_completion_tokens: 8, reserved_completion_tokens: 10, accounted_completion_tokens: 5, prompt_credits_accounted: true };
/** The same final delta with nobody to pay: a 422. */
const settlementWithoutWorkers = { prompt_tokens: 10, total_model_bytes: ONE_CREDIT_PER_TOKEN_BYTES, actual_completion_tokens: 8, reserved_completion_tokens: 10, accounted_completion_tokens: 5, prompt_credits_accounted: true };

async function scrape(app: FastifyInstance): Promise<string> {
  const response = await app.inject({ method: 'GET', url: '/metrics' });
  expect(response.statusCode).toBe(200);
  expect(response.headers['content-type']).toBe(METRICS_CONTENT_TYPE);
  return response.body;
}

/** The sample lines of one metric name (exactly that name, any labels). */
function samples(text: string, name: string): string[] {
  return text.split('\n').filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `));
}

function value(text: string, sample: string): number {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${sample} `));
  if (line === undefined) throw new Error(`no sample ${sample}`);
  return Number(line.slice(sample.length + 1));
}

describe('GET /metrics', () => {
  const app = useApp();

  it('counts answers by route pattern and status, problems by type, and the credits burned and paid', async () => {
    expect((await postJson(app(), '/realtime-delta', firstDelta)).statusCode).toBe(200);
    expect((await postJson(app(), '/realtime-delta', nothingNew)).statusCode).toBe(204);
    expect((await postRaw(app(), '/quote?token=secret', '{', 'application/json')).statusCode).toBe(400);
    expect((await postJson(app(), '/settle', settlementWithoutWorkers)).statusCode).toBe(422);
    expect((await postJson(app(), '/realtime-delta', pastReservation)).statusCode).toBe(409);
    expect((await postJson(app(), '/settle', settlement)).statusCode).toBe(200);
    // A batch is one 200; its 200 update burns and pays, its 409 update is a problem answered.
    const batch = await postJson(app(), '/realtime-delta/batch', { updates: [firstDelta, pastReservation, nothingNew] });
    expect(batch.json().results.map((result: { status: number }) => result.status)).toStrictEqual([200, 409, 204]);
    expect((await app().inject({ method: 'GET', url: '/policy/no-such-version' })).statusCode).toBe(404);
    expect((await app().inject({ method: 'GET', url: '/no/such/path?q=1' })).statusCode).toBe(404);

    const text = await scrape(app());
    expect(samples(text, 'divy_http_request_duration_seconds_count').sort()).toStrictEqual(
      [
        'divy_http_request_duration_seconds_count{route="/realtime-delta",status_code="200"} 1',
        'divy_http_request_duration_seconds_count{route="/realtime-delta",status_code="204"} 1',
        'divy_http_request_duration_seconds_count{route="/realtime-delta",status_code="409"} 1',
        'divy_http_request_duration_seconds_count{route="/quote",status_code="400"} 1',
        'divy_http_request_duration_seconds_count{route="/settle",status_code="422"} 1',
        'divy_http_request_duration_seconds_count{route="/settle",status_code="200"} 1',
        'divy_http_request_duration_seconds_count{route="/realtime-delta/batch",status_code="200"} 1',
        'divy_http_request_duration_seconds_count{route="/policy/:version",status_code="404"} 1',
        // No route: never the raw URL or its query.
        'divy_http_request_duration_seconds_count{route="unmatched",status_code="404"} 1',
      ].sort(),
    );
    expect(samples(text, 'divy_http_request_duration_seconds_bucket').filter((line) => line.includes('route="/settle",status_code="200"'))).toHaveLength(12);
    expect(value(text, 'divy_http_request_duration_seconds_bucket{le="+Inf",route="/settle",status_code="200"}')).toBe(1);
    expect(text).not.toContain('secret');
    expect(samples(text, 'divy_problems_total').sort()).toStrictEqual(
      [
        'divy_problems_total{type="urn:divy:problem:malformed-json"} 1',
        'divy_problems_total{type="urn:divy:problem:policy-rule-violation"} 1',
        'divy_problems_total{type="urn:divy:problem:reservation-exceeded"} 2',
        'divy_problems_total{type="urn:divy:problem:not-found"} 2',
      ].sort(),
    );
    // 15 + 15 burned by the deltas, 3 by the settlement's final delta; the workers are paid all of it.
    expect(samples(text, 'divy_credits_burned_total')).toStrictEqual(['divy_credits_burned_total 33']);
    expect(samples(text, 'divy_credits_paid_total')).toStrictEqual(['divy_credits_paid_total 33']);
    // Nothing shed here: this app is built without load shedding (test/http/load-shedding.test.ts counts shed requests).
    expect(samples(text, 'divy_shed_requests_total')).toStrictEqual(['divy_shed_requests_total 0']);
    expect(text).toMatch(/^# HELP divy_shed_requests_total Requests refused with a 503 to shed load/m);
    // The process metrics of collectDefaultMetrics.
    expect(text).toMatch(/^process_cpu_seconds_total \d/m);
    expect(text).toMatch(/^nodejs_heap_size_total_bytes \d/m);
  });

  it('counts the credits of an answer written as CSV as those of the same answer in JSON', async () => {
    const csvApp = await buildApp();
    try {
      const csv = await postJson(csvApp, '/realtime-delta', firstDelta, { accept: 'text/csv' });
      expect(csv.statusCode).toBe(200);
      expect(csv.headers['content-type']).toMatch(/^text\/csv/);
      // Nothing new and refused: neither burns anything.
      expect((await postJson(csvApp, '/realtime-delta', nothingNew, { accept: 'text/csv' })).statusCode).toBe(204);
      expect((await postJson(csvApp, '/realtime-delta', pastReservation, { accept: 'text/csv' })).statusCode).toBe(409);
      const text = await scrape(csvApp);
      expect(samples(text, 'divy_credits_burned_total')).toStrictEqual(['divy_credits_burned_total 15']);
      expect(samples(text, 'divy_credits_paid_total')).toStrictEqual(['divy_credits_paid_total 15']);
    } finally {
      await csvApp.close();
    }
  });

  it('is not signed, and is documented under operations with its content type', async () => {
    const response = await app().inject({ method: 'GET', url: '/metrics' });
    expect(response.headers['signature']).toBeUndefined();
    const spec = app().swagger() as { paths: Record<string, { get: { tags: string[]; responses: Record<string, { description: string; content: Record<string, unknown> }> } }> };
    const operation = spec.paths['/metrics']!.get;
    expect(operation.tags).toStrictEqual(['operations']);
    expect(operation.responses['200']!.description).not.toBe('');
    expect(Object.keys(operation.responses['200']!.content)).toStrictEqual([METRICS_CONTENT_TYPE]);
  });
});

describe('two apps in one process', () => {
  const first = useApp();
  const second = useApp();

  it('count apart', async () => {
    expect((await postJson(first(), '/realtime-delta', firstDelta)).statusCode).toBe(200);
    const firstText = await scrape(first());
    const secondText = await scrape(second());
    expect(samples(firstText, 'divy_credits_burned_total')).toStrictEqual(['divy_credits_burned_total 15']);
    expect(samples(secondText, 'divy_credits_burned_total')).toStrictEqual(['divy_credits_burned_total 0']);
    expect(samples(secondText, 'divy_http_request_duration_seconds_count').filter((line) => line.includes('/realtime-delta'))).toStrictEqual([]);
  });

  it('each build a registry of their own, so building one more does not throw on duplicate names', async () => {
    const third = await buildApp();
    await third.ready();
    expect(samples(await scrape(third), 'divy_credits_burned_total')).toStrictEqual(['divy_credits_burned_total 0']);
    await third.close();
  });
});

// `which` itself may be missing on a bare image: then so is promtool, for this test.
const promtool = spawnSync('which', ['promtool'], { encoding: 'utf8' }).stdout?.trim() ?? '';
if (promtool === '') {
  console.warn('metrics.test.ts: promtool is not installed; skipping `promtool check metrics` (apt-get install prometheus)');
}

describe('the exposition format', () => {
  // With load shedding on, so that its gauge (divy_admitted_share) is in the text too.
  const app = useApp({ load_shedding: { max_event_loop_delay_ms: 25, max_event_loop_utilization: 0.9, max_heap_used_bytes: 0, sample_interval_ms: 100, retry_after_s: 1 } });

  it.skipIf(promtool === '')('passes `promtool check metrics` (skipped when promtool is not installed)', async () => {
    expect((await postJson(app(), '/realtime-delta', firstDelta)).statusCode).toBe(200);
    expect((await postRaw(app(), '/quote', '{', 'application/json')).statusCode).toBe(400);
    const text = await scrape(app());
    const check = (input: string) => {
      const result = spawnSync(promtool, ['check', 'metrics'], { input, encoding: 'utf8' });
      return { status: result.status, stdout: result.stdout, stderr: result.stderr };
    };
    // Divy's own metrics pass the parser and every lint rule.
    const divyOnly = text.split('\n').filter((line) => /^(# (HELP|TYPE) )?divy_/.test(line)).join('\n') + '\n';
    expect(divyOnly).toMatch(/^# TYPE divy_admitted_share gauge\ndivy_admitted_share 1$/m);
    expect(check(divyOnly)).toStrictEqual({ status: 0, stdout: '', stderr: '' });
    // The whole text parses (exit 1 would be a parse error); promtool's lint (exit 3) flags only
    // three gauges prom-client's default metrics name with a counter's _total suffix.
    expect(check(text)).toStrictEqual({
      status: 3,
      stdout: '',
      stderr: ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']
        .map((name) => `${name} non-counter metrics should not have "_total" suffix\n`)
        .join(''),
    });
  });
});

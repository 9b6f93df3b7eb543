/** The happy path of every endpoint, on the worked example of the original model's README. */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { QuoteResponseSchema, SettleResponseSchema } from '../../src/http/schemas/consumption.js';
import { ContributionResponseSchema } from '../../src/http/schemas/contribution.js';
import {
  CONTRIBUTION_EXAMPLE,
  QUOTE_EXAMPLE,
  REALTIME_DELTA_EXAMPLE,
  SETTLE_EXAMPLE,
} from '../../src/http/schemas/examples.js';
import { RealtimeDeltaResponseSchema } from '../../src/http/schemas/realtime-delta.js';
import { HealthSchema, PolicyDocumentSchema } from '../../src/http/schemas/service.js';
import {
  computeContribution,
  computeRealtimeDelta,
  DEFAULT_POLICY_PARAMETERS,
  quoteConsumption,
  settleConsumption,
  type Consumption,
  type Contribution,
  type PolicySettings,
  type RealtimeDelta,
} from '../../src/policy/index.js';
import { expectProblem, JSON_CONTENT_TYPE, postJson, sumCredits } from '../support/http.js';

describe('accounting endpoints with the default policy', () => {
  let app: FastifyInstance;

  beforeAll(async () => {
    app = await buildApp();
    await app.ready();
  });

  afterAll(async () => {
    await app.close();
  });

  it('POST /quote prices the README example at 256 + 512 = 768 credits with factor 2', async () => {
    const response = await postJson(app, '/quote', QUOTE_EXAMPLE);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe(JSON_CONTENT_TYPE);
    const body = response.json<Consumption>();
    expect(body).toEqual({
      policy_version: 'divy-credit-1',
      model_size_factor: 2,
      prompt_credits: '256.000000000',
      completion_credits: '512.000000000',
      total_credits: '768.000000000',
    });
    expect(body).toEqual(quoteConsumption(QUOTE_EXAMPLE));
    expect(QuoteResponseSchema.parse(body)).toEqual(body);
  });

  it('POST /settle prices the README example at 256 + 360 = 616 credits', async () => {
    const response = await postJson(app, '/settle', SETTLE_EXAMPLE);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe(JSON_CONTENT_TYPE);
    const body = response.json<Consumption>();
    expect(body).toEqual({
      policy_version: 'divy-credit-1',
      model_size_factor: 2,
      prompt_credits: '256.000000000',
      completion_credits: '360.000000000',
      total_credits: '616.000000000',
    });
    expect(body).toEqual(settleConsumption(SETTLE_EXAMPLE));
    expect(SettleResponseSchema.parse(body)).toEqual(body);
  });

  it('POST /contribution splits the 616-credit budget so the workers\' credits sum to it exactly', async () => {
    const response = await postJson(app, '/contribution', CONTRIBUTION_EXAMPLE);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe(JSON_CONTENT_TYPE);
    const body = response.json<Contribution>();
    expect(body).toEqual(computeContribution(CONTRIBUTION_EXAMPLE));
    expect(ContributionResponseSchema.parse(body)).toEqual(body);
    expect(body.policy_version).toBe('divy-credit-1');
    expect(body.job_credit_budget).toBe('616.000000000');
    expect(body.assignments.map((worker) => worker.worker_id)).toEqual(['fast-metal', 'slow-cpu']);
    expect(sumCredits(body.assignments.map((worker) => worker.credits), 9)).toBe(body.job_credit_budget);
  });

  it('POST /realtime-delta burns 16 credits for 8 new tokens: fast-metal 13.714285714 + slow-cpu 2.285714286', async () => {
    const response = await postJson(app, '/realtime-delta', REALTIME_DELTA_EXAMPLE);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe(JSON_CONTENT_TYPE);
    const body = response.json<RealtimeDelta>();
    expect(body).toEqual(computeRealtimeDelta(REALTIME_DELTA_EXAMPLE));
    expect(RealtimeDeltaResponseSchema.parse(body)).toEqual(body);
    expect(body).toMatchObject({
      policy_version: 'divy-credit-1',
      prompt_tokens_delta: 0,
      completion_tokens_delta: 8,
      frontier_completion_tokens: 32,
      consumption: {
        policy_version: 'divy-credit-1',
        model_size_factor: 2,
        prompt_credits: '0.000000000',
        completion_credits: '16.000000000',
        total_credits: '16.000000000',
      },
      contribution: {
        policy_version: 'divy-credit-1',
        job_credit_budget: '16.000000000',
        assignments: [
          { worker_id: 'fast-metal', credits: '13.714285714' },
          { worker_id: 'slow-cpu', credits: '2.285714286' },
        ],
      },
    });
    expect(sumCredits(body.contribution.assignments.map((worker) => worker.credits), 9)).toBe('16.000000000');
  });

  it('POST /realtime-delta answers 204 with an empty body and no content type when nothing is new', async () => {
    const response = await postJson(app, '/realtime-delta', {
      ...REALTIME_DELTA_EXAMPLE,
      accounted_completion_tokens: REALTIME_DELTA_EXAMPLE.frontier_completion_tokens,
      prompt_credits_accounted: true,
    });
    expect(response.statusCode).toBe(204);
    expect(response.body).toBe('');
    expect(response.headers['content-type']).toBeUndefined();
    expect(response.headers['x-request-id']).toEqual(expect.any(String));
  });

  it('the realtime deltas of a job, 0 -> 10 -> 32 -> 180 tokens, sum exactly to its settlement', async () => {
    const steps: [number, number][] = [
      [0, 10],
      [10, 32],
      [32, 180],
    ];
    const burned: string[] = [];
    for (const [index, [accounted, frontier]] of steps.entries()) {
      const response = await postJson(app, '/realtime-delta', {
        ...REALTIME_DELTA_EXAMPLE,
        prompt_credits_accounted: index > 0,
        accounted_completion_tokens: accounted,
        frontier_completion_tokens: frontier,
      });
      expect(response.statusCode).toBe(200);
      burned.push(response.json<RealtimeDelta>().consumption.total_credits);
    }
    const settlement = await postJson(app, '/settle', SETTLE_EXAMPLE);
    expect(sumCredits(burned, 9)).toBe(settlement.json<Consumption>().total_credits);
  });

  it('GET /policy shows exactly the default settings', async () => {
    const response = await app.inject({ method: 'GET', url: '/policy' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe(JSON_CONTENT_TYPE);
    const body: unknown = response.json();
    expect(body).toStrictEqual({
      policy_version: 'divy-credit-1',
      credit_scale: 9,
      max_assignments: 10000,
      parameters: {
        model_size_scale_gib: 32,
        min_execution_time_secs: 0.001,
        throughput_multiplier_min: 0.5,
        throughput_multiplier_max: 1.5,
        resource_multiplier_base: 0.85,
        resource_multiplier_span: 0.3,
      },
    });
    expect(PolicyDocumentSchema.parse(body)).toEqual(body);
  });

  it('GET /healthz answers {status: "ok"}', async () => {
    const response = await app.inject({ method: 'GET', url: '/healthz' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe(JSON_CONTENT_TYPE);
    expect(response.json()).toStrictEqual({ status: 'ok' });
    expect(HealthSchema.parse(response.json())).toEqual({ status: 'ok' });
  });
});

describe('accounting endpoints with custom settings', () => {
  const settings: PolicySettings = {
    parameters: { ...DEFAULT_POLICY_PARAMETERS, version: 'custom-test-7', model_size_scale_gib: 16 },
    credit_scale: 2,
    max_assignments: 2,
  };
  let app: FastifyInstance;

  beforeAll(async () => {
    app = await buildApp({ settings });
    await app.ready();
  });

  afterAll(async () => {
    await app.close();
  });

  it('GET /policy shows the configured version, scale, bound and parameters', async () => {
    const response = await app.inject({ method: 'GET', url: '/policy' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toStrictEqual({
      policy_version: 'custom-test-7',
      credit_scale: 2,
      max_assignments: 2,
      parameters: {
        model_size_scale_gib: 16,
        min_execution_time_secs: 0.001,
        throughput_multiplier_min: 0.5,
        throughput_multiplier_max: 1.5,
        resource_multiplier_base: 0.85,
        resource_multiplier_span: 0.3,
      },
    });
  });

  it('POST /quote prices with the configured parameters, at 2 fraction digits, under the configured version', async () => {
    const response = await postJson(app, '/quote', QUOTE_EXAMPLE);
    expect(response.statusCode).toBe(200);
    const body = response.json<Consumption>();
    expect(body).toStrictEqual({
      policy_version: 'custom-test-7',
      model_size_factor: 4,
      prompt_credits: '512.00',
      completion_credits: '1024.00',
      total_credits: '1536.00',
    });
    expect(body).toEqual(quoteConsumption(QUOTE_EXAMPLE, settings));
  });

  it('POST /realtime-delta splits at the configured scale and the amounts still add up', async () => {
    const response = await postJson(app, '/realtime-delta', REALTIME_DELTA_EXAMPLE);
    expect(response.statusCode).toBe(200);
    const body = response.json<RealtimeDelta>();
    expect(body).toEqual(computeRealtimeDelta(REALTIME_DELTA_EXAMPLE, settings));
    expect(body.consumption.total_credits).toBe('32.00');
    expect(body.contribution.job_credit_budget).toBe('32.00');
    expect(sumCredits(body.contribution.assignments.map((worker) => worker.credits), 2)).toBe('32.00');
  });

  it('POST /contribution enforces the configured max_assignments', async () => {
    const third = { ...CONTRIBUTION_EXAMPLE.assignments[0]!, worker_id: 'third' };
    const response = await postJson(app, '/contribution', {
      ...CONTRIBUTION_EXAMPLE,
      assignments: [...CONTRIBUTION_EXAMPLE.assignments, third],
    });
    const problem = expectProblem(response, 422);
    expect(problem.type).toBe('urn:divy:problem:policy-rule-violation');
    expect(problem.errors).toEqual([{ path: '/assignments', message: 'must hold at most 2 assignments' }]);
  });
});

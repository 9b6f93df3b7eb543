/** The happy path of every endpoint, on the worked example of the original model's README. */
import { describe, expect, it } from 'vitest';
import { apiSchemas } from '../../src/http/schemas/api.js';
import {
  CONTRIBUTION_EXAMPLE,
  QUOTE_EXAMPLE,
  REALTIME_DELTA_EXAMPLE,
  SETTLE_EXAMPLE,
} from '../../src/http/schemas/examples.js';
import {
  catalogOfOne,
  computeContribution,
  computeRealtimeDelta,
  DEFAULT_POLICY_PARAMETERS,
  DEFAULT_POLICY_SETTINGS,
  PARAMETER_NAMES,
  quoteConsumption,
  settleConsumption,
  type Consumption,
  type Contribution,
  type ContributionInput,
  type PolicySettings,
  type Quote,
  type RealtimeDelta,
  type Settlement,
} from '../../src/policy/index.js';
import { expectProblem, JSON_CONTENT_TYPE, postJson, sumCredits, useApp } from '../support/http.js';
import { MODEL_DEFAULT_PARAMETERS } from '../support/model-defaults.js';
import { README_QUOTE_CONSUMPTION, README_SETTLE_CONSUMPTION, README_SETTLEMENT, README_WORKER_FACTORS } from '../support/readme-example.js';

/** The schemas the default app answers with, to parse its answers by. */
const schemas = apiSchemas(catalogOfOne(DEFAULT_POLICY_SETTINGS));

/** The default parameters as GET /policy shows them, without their version. */
const { version: _version, ...DEFAULT_PARAMETERS_SHOWN } = MODEL_DEFAULT_PARAMETERS;

describe('accounting endpoints with the default policy', () => {
  const app = useApp();

  it('POST /quote prices the README example at 256 + 512 = 768 credits with factor 2; its budget of 700 affords 222 tokens', async () => {
    const response = await postJson(app(), '/quote', QUOTE_EXAMPLE);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe(JSON_CONTENT_TYPE);
    const body = response.json<Quote>();
    expect(body).toStrictEqual({
      ...README_QUOTE_CONSUMPTION,
      // (700 - 256) / 2 = 222.
      max_affordable_completion_tokens: 222,
    });
    expect(body).toStrictEqual(quoteConsumption(QUOTE_EXAMPLE));
    expect(schemas.consumption.quoteResponse.parse(body)).toEqual(body);
  });

  it('POST /quote without a budget answers the consumption alone', async () => {
    const { budget_credits: _budget, ...unbudgeted } = QUOTE_EXAMPLE;
    const response = await postJson(app(), '/quote', unbudgeted);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toStrictEqual(README_QUOTE_CONSUMPTION);
  });

  it('POST /settle prices the README example at 256 + 360 = 616 credits and reconciles it against the reservation of 768', async () => {
    const response = await postJson(app(), '/settle', SETTLE_EXAMPLE);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe(JSON_CONTENT_TYPE);
    const body = response.json<Settlement>();
    // The exact answer job-life.test.ts checks too: here beside the policy's own settlement and the schema.
    expect(body).toStrictEqual(README_SETTLEMENT);
    expect(body).toStrictEqual(settleConsumption(SETTLE_EXAMPLE));
    expect(schemas.settlement.settleResponse.parse(body)).toEqual(body);
  });

  it('POST /settle without the optional fields answers the consumption alone, 256 + 360 = 616 credits', async () => {
    const { prompt_tokens, actual_completion_tokens, total_model_bytes } = SETTLE_EXAMPLE;
    const response = await postJson(app(), '/settle', { prompt_tokens, actual_completion_tokens, total_model_bytes });
    expect(response.statusCode).toBe(200);
    const body = response.json<Consumption>();
    expect(body).toStrictEqual(README_SETTLE_CONSUMPTION);
    expect(schemas.settlement.settleResponse.parse(body)).toEqual(body);
  });

  it('POST /contribution splits the 616-credit budget so the workers\' credits sum to it exactly', async () => {
    const response = await postJson(app(), '/contribution', CONTRIBUTION_EXAMPLE);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe(JSON_CONTENT_TYPE);
    const body = response.json<Contribution>();
    expect(body).toEqual(computeContribution(CONTRIBUTION_EXAMPLE));
    expect(schemas.contribution.contributionResponse.parse(body)).toEqual(body);
    expect(body.policy_version).toBe('divy-credit-1');
    expect(body.job_credit_budget).toBe('616.000000000');
    expect(body.assignments.map((worker) => worker.worker_id)).toEqual(['fast-metal', 'slow-cpu']);
    expect(sumCredits(body.assignments.map((worker) => worker.credits), 9)).toBe(body.job_credit_budget);
  });

  it('POST /realtime-delta burns 16 credits for 8 new tokens: fast-metal 13.714285714 + slow-cpu 2.285714286', async () => {
    const response = await postJson(app(), '/realtime-delta', REALTIME_DELTA_EXAMPLE);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe(JSON_CONTENT_TYPE);
    const body = response.json<RealtimeDelta>();
    expect(body).toStrictEqual(computeRealtimeDelta(REALTIME_DELTA_EXAMPLE));
    expect(schemas.realtimeDelta.realtimeDeltaResponse.parse(body)).toEqual(body);
    expect(body).toStrictEqual({
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
          { worker_id: 'fast-metal', credits: '13.714285714', ...README_WORKER_FACTORS.fast },
          { worker_id: 'slow-cpu', credits: '2.285714286', ...README_WORKER_FACTORS.slow },
        ],
      },
      // The prompt and 32 tokens of the 256 reserved: 256 + 64 of 256 + 512.
      reservation: { reserved_credits: '768.000000000', burned_credits: '320.000000000', remaining_credits: '448.000000000' },
      job_id: 'job-42',
      delta_id: '852501d61559a8be58b00f465c5cc867',
      postings: [
        {
          id: 'bd0b8a59a559969efc53358c8df8336d',
          kind: 'payout',
          debit_account: 'job:job-42:reservation',
          credit_account: 'worker:fast-metal',
          amount: '13.714285714',
        },
        {
          id: '61eb647a4580b028c40ea1cec7417c17',
          kind: 'payout',
          debit_account: 'job:job-42:reservation',
          credit_account: 'worker:slow-cpu',
          amount: '2.285714286',
        },
      ],
    });
    expect(sumCredits(body.contribution.assignments.map((worker) => worker.credits), 9)).toBe('16.000000000');
  });

  it('POST /realtime-delta answers 204 with an empty body and no content type when nothing is new', async () => {
    const response = await postJson(app(), '/realtime-delta', {
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
      const response = await postJson(app(), '/realtime-delta', {
        ...REALTIME_DELTA_EXAMPLE,
        prompt_credits_accounted: index > 0,
        accounted_completion_tokens: accounted,
        frontier_completion_tokens: frontier,
      });
      expect(response.statusCode).toBe(200);
      burned.push(response.json<RealtimeDelta>().consumption.total_credits);
    }
    const settlement = await postJson(app(), '/settle', SETTLE_EXAMPLE);
    expect(settlement.statusCode).toBe(200);
    expect(burned).toEqual(['276.000000000', '44.000000000', '296.000000000']);
    expect(sumCredits(burned, 9)).toBe(settlement.json<Consumption>().total_credits);
  });

  it('GET /policy shows exactly the default settings', async () => {
    const response = await app().inject({ method: 'GET', url: '/policy' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe(JSON_CONTENT_TYPE);
    const body: unknown = response.json();
    expect(body).toStrictEqual({
      policy_version: 'divy-credit-1',
      credit_scale: 9,
      max_assignments: 10000,
      parameters: DEFAULT_PARAMETERS_SHOWN,
      policies: [{ policy_version: 'divy-credit-1', current: true, parameters: DEFAULT_PARAMETERS_SHOWN }],
    });
    expect(schemas.service.policyDocument.parse(body)).toEqual(body);
    // Every parameter of the policy's table, in its order, and nothing else.
    expect(Object.keys((body as { parameters: object }).parameters)).toEqual(PARAMETER_NAMES);
    expect(response.body).toContain('"reference_service_rate_min":2.220446049250313e-16,');
  });

  it('GET /policy/divy-credit-1 shows exactly the default settings, marked current', async () => {
    const response = await app().inject({ method: 'GET', url: '/policy/divy-credit-1' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe(JSON_CONTENT_TYPE);
    const body: unknown = response.json();
    expect(body).toStrictEqual({
      policy_version: 'divy-credit-1',
      current: true,
      credit_scale: 9,
      max_assignments: 10000,
      parameters: DEFAULT_PARAMETERS_SHOWN,
    });
    expect(schemas.service.policyVersionDocument.parse(body)).toEqual(body);
  });

  it('GET /healthz answers {status: "ok"}', async () => {
    const response = await app().inject({ method: 'GET', url: '/healthz' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe(JSON_CONTENT_TYPE);
    expect(response.json()).toStrictEqual({ status: 'ok' });
    expect(schemas.service.health.parse(response.json())).toEqual({ status: 'ok' });
  });
});

describe('accounting endpoints with custom settings', () => {
  const settings: PolicySettings = {
    parameters: { ...DEFAULT_POLICY_PARAMETERS, version: 'custom-test-7', model_size_scale_gib: 16 },
    credit_scale: 2,
    max_assignments: 2,
  };
  const app = useApp({ settings });

  it('GET /policy shows the configured version, scale, bound and parameters', async () => {
    const response = await app().inject({ method: 'GET', url: '/policy' });
    expect(response.statusCode).toBe(200);
    const parameters = { ...DEFAULT_PARAMETERS_SHOWN, model_size_scale_gib: 16 };
    expect(response.json()).toStrictEqual({
      policy_version: 'custom-test-7',
      credit_scale: 2,
      max_assignments: 2,
      parameters,
      policies: [{ policy_version: 'custom-test-7', current: true, parameters }],
    });
  });

  it('POST /quote prices with the configured parameters, at 2 fraction digits, under the configured version', async () => {
    const response = await postJson(app(), '/quote', QUOTE_EXAMPLE);
    expect(response.statusCode).toBe(200);
    const body = response.json<Quote>();
    expect(body).toStrictEqual({
      policy_version: 'custom-test-7',
      model_size_factor: 4,
      prompt_credits: '512.00',
      completion_credits: '1024.00',
      total_credits: '1536.00',
      // (700 - 512) / 4 = 47.
      max_affordable_completion_tokens: 47,
    });
    expect(body).toStrictEqual(quoteConsumption(QUOTE_EXAMPLE, settings));
  });

  it('POST /realtime-delta splits at the configured scale and the amounts still add up', async () => {
    const response = await postJson(app(), '/realtime-delta', REALTIME_DELTA_EXAMPLE);
    expect(response.statusCode).toBe(200);
    const body = response.json<RealtimeDelta>();
    expect(body).toStrictEqual(computeRealtimeDelta(REALTIME_DELTA_EXAMPLE, settings));
    expect(body.consumption.total_credits).toBe('32.00');
    expect(body.reservation).toStrictEqual({ reserved_credits: '1536.00', burned_credits: '640.00', remaining_credits: '896.00' });
    expect(body.contribution.job_credit_budget).toBe('32.00');
    expect(sumCredits(body.contribution.assignments.map((worker) => worker.credits), 2)).toBe('32.00');
  });

  it('POST /contribution enforces the configured max_assignments', async () => {
    const third = { ...CONTRIBUTION_EXAMPLE.assignments[0]!, worker_id: 'third' };
    const response = await postJson(app(), '/contribution', {
      ...CONTRIBUTION_EXAMPLE,
      assignments: [...CONTRIBUTION_EXAMPLE.assignments, third],
    });
    const problem = expectProblem(response, 422);
    expect(problem.type).toBe('urn:divy:problem:policy-rule-violation');
    expect(problem.errors).toEqual([{ path: '/assignments', message: 'must hold at most 2 assignments' }]);
  });
});

describe('the reference-rate floor at the edge of the model', () => {
  const app = useApp();
  /**
   * Both workers run one column of 10000 for so long that their rates, about 1.1e-17 and
   * 1.1e-16, have a median below the model's floor of 2^-52: the floor becomes the reference,
   * the fast worker sits right at the lower clamp and the slow one below it, so they earn alike.
   */
  const input: ContributionInput = {
    prompt_tokens: 1,
    completion_tokens: 0,
    total_model_bytes: 0,
    total_columns: 10_000,
    assignments: [
      {
        worker_id: 'slow',
        execution_time_ms: 9_007_199_254_740_991,
        assigned_capacity_units: 1,
        shard_column_start: 0,
        shard_column_end: 1,
        available_memory_bytes: 1,
      },
      {
        worker_id: 'fast',
        execution_time_ms: 900_719_925_474_099,
        assigned_capacity_units: 1,
        shard_column_start: 1,
        shard_column_end: 2,
        available_memory_bytes: 1,
      },
    ],
  };

  it('POST /contribution floors the reference at 2^-52 and splits 1 credit as 0.5 + 0.5', async () => {
    const response = await postJson(app(), '/contribution', input);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['content-type']).toBe(JSON_CONTENT_TYPE);
    const body = response.json<Contribution>();
    expect(body).toEqual(computeContribution(input));
    expect(body.job_credit_budget).toBe('1.000000000');
    expect(body.assignments.map((worker) => [worker.worker_id, worker.credits])).toEqual([
      ['slow', '0.500000000'],
      ['fast', '0.500000000'],
    ]);
    const [slow, fast] = body.assignments;
    // The floor binds: both measured rates, and so their median, lie below it.
    expect((slow!.measured_service_rate + fast!.measured_service_rate) / 2).toBeLessThan(2 ** -52);
    for (const worker of body.assignments) {
      expect(worker.reference_service_rate, worker.worker_id).toBe(2.220446049250313e-16);
      expect(Math.abs(worker.throughput_multiplier - 0.5), `${worker.worker_id}: ${worker.throughput_multiplier}`).toBeLessThanOrEqual(1e-15);
      expect(worker.resource_pressure_multiplier).toBe(0.85);
      expect(worker.memory_pressure).toBe(0);
    }
    expect(sumCredits(body.assignments.map((worker) => worker.credits), 9)).toBe(body.job_credit_budget);
  });
});

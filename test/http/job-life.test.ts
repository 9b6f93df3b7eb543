/**
 * A job's whole life over HTTP: a quote with a budget, realtime deltas bounded by the
 * reservation, a settlement reconciled against it, the ledger postings of a job id, and policy
 * versions served side by side, from a POLICY_FILE that lists them.
 */
import type { LightMyRequestResponse } from 'fastify';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { CONTRIBUTION_EXAMPLE, EXAMPLE_ASSIGNMENTS, QUOTE_EXAMPLE, REALTIME_DELTA_EXAMPLE, SETTLE_EXAMPLE } from '../../src/http/schemas/examples.js';
import {
  catalogOf,
  computeContribution,
  computeRealtimeDelta,
  DEFAULT_POLICY_PARAMETERS,
  DEFAULT_POLICY_SETTINGS,
  quoteConsumption,
  settleConsumption,
  type Contribution,
  type PolicySettings,
  type Posting,
  type RealtimeDelta,
  type RealtimeDeltaInput,
  type Settlement,
} from '../../src/policy/index.js';
import {
  expectExactProblem,
  ID_HEADER,
  invalidRequest,
  JSON_CONTENT_TYPE,
  oneViolation,
  POST_ROUTES,
  postJson,
  REQUEST_ID,
  reservationExceeded,
  ruleViolations,
  sumCredits,
  useApp,
  type ProblemBody,
} from '../support/http.js';
import { property, requestBody, servedDocument } from '../support/openapi.js';
import { README_QUOTE_CONSUMPTION, README_SETTLE_CONSUMPTION, README_SETTLEMENT, README_WORKER_FACTORS } from '../support/readme-example.js';
import { useTempDir } from '../support/temp-dir.js';

function expectOk(response: LightMyRequestResponse): void {
  expect(response.statusCode, response.body).toBe(200);
  expect(response.headers['content-type']).toBe(JSON_CONTENT_TYPE);
}

/** A delta of job-42 from `accounted` to `frontier`, the prompt burned by the first one. */
function delta(accounted: number, frontier: number, fields: Partial<RealtimeDeltaInput> & { policy_version?: string } = {}): RealtimeDeltaInput {
  return {
    ...REALTIME_DELTA_EXAMPLE,
    prompt_credits_accounted: accounted > 0,
    accounted_completion_tokens: accounted,
    frontier_completion_tokens: frontier,
    ...fields,
  };
}

const HEX_128 = /^[0-9a-f]{32}$/;

describe('POST /quote with a budget', () => {
  const app = useApp();

  /** The README quote, with what the budget affords. */
  const quoteAffording = (max_affordable_completion_tokens: number) => ({ ...README_QUOTE_CONSUMPTION, max_affordable_completion_tokens });

  it('answers the README example exactly: a budget of 700 affords (700 - 256) / 2 = 222 tokens', async () => {
    const response = await postJson(app(), '/quote', QUOTE_EXAMPLE);
    expectOk(response);
    expect(response.json()).toStrictEqual(quoteAffording(222));
  });

  it.each([
    ['700.000000000', 222],
    ['701.999999999', 222],
    ['702', 223],
    // The prompt fits exactly, or with room for less than a token: no completion token.
    ['256', 0],
    ['257.999999999', 0],
    ['258', 1],
    // Up to every token a request may carry beside the prompt, and no further.
    ['999999999999999999999999', 2 ** 32 - 1 - 128],
  ])('a budget of %s credits affords %i tokens, and the rest of the answer is the quote', async (budget_credits, affordable) => {
    const response = await postJson(app(), '/quote', { ...QUOTE_EXAMPLE, budget_credits });
    expectOk(response);
    expect(response.json()).toStrictEqual(quoteAffording(affordable));
  });

  it.each(['255.999999999', '0', '0.000000001'])('a budget of %s credits, below the prompt\'s 256, affords 0 tokens', async (budget_credits) => {
    const response = await postJson(app(), '/quote', { ...QUOTE_EXAMPLE, budget_credits });
    expectOk(response);
    expect(response.json()).toStrictEqual(quoteAffording(0));
  });

  it.each(['-1', '1e3', '', ' 700', '700.', '.5', '+700', '0x10', '7,00', '1.0000000001', '9'.repeat(25), '٧٠٠'])(
    'a budget of %j is a 422 that states the rule',
    async (budget_credits) => {
      const response = await postJson(app(), '/quote', { ...QUOTE_EXAMPLE, budget_credits }, ID_HEADER);
      expectExactProblem(
        response,
        oneViolation('/budget_credits', 'must be a decimal string of credits: up to 24 digits, then at most 9 fraction digits'),
      );
    },
  );

  it('a budget that is a number, not a string, is a 400', async () => {
    const response = await postJson(app(), '/quote', { ...QUOTE_EXAMPLE, budget_credits: 700 }, ID_HEADER);
    expectExactProblem(response, invalidRequest({ path: '/budget_credits', message: 'must be a string' }));
  });

  it('a bad budget is listed with the other broken rules', async () => {
    const response = await postJson(app(), '/quote', { ...QUOTE_EXAMPLE, prompt_tokens: 1.5, budget_credits: 'lots' }, ID_HEADER);
    expectExactProblem(
      response,
      ruleViolations(
        { path: '/prompt_tokens', message: 'must be an integer from 0 to 4294967295' },
        { path: '/budget_credits', message: 'must be a decimal string of credits: up to 24 digits, then at most 9 fraction digits' },
      ),
    );
  });

  describe('at the credit scale of the deployment', () => {
    const cents = useApp({ settings: { ...DEFAULT_POLICY_SETTINGS, credit_scale: 2 } });

    it('reads budgets of up to 2 fraction digits, and refuses a third', async () => {
      const fits = await postJson(cents(), '/quote', { ...QUOTE_EXAMPLE, budget_credits: '701.99' }, ID_HEADER);
      expectOk(fits);
      expect(fits.json()).toStrictEqual({
        policy_version: 'divy-credit-1',
        model_size_factor: 2,
        prompt_credits: '256.00',
        completion_credits: '512.00',
        total_credits: '768.00',
        max_affordable_completion_tokens: 222,
      });
      const refused = await postJson(cents(), '/quote', { ...QUOTE_EXAMPLE, budget_credits: '701.999' }, ID_HEADER);
      expectExactProblem(refused, oneViolation('/budget_credits', 'must be a decimal string of credits: up to 24 digits, then at most 2 fraction digits'));
    });
  });
});

describe('POST /realtime-delta with a reservation', () => {
  const app = useApp();

  it.each([
    ['reports the reservation once the delta is burned: the first delta burns the prompt and 10 tokens of 768', 0, 10, '276.000000000', '276.000000000', '492.000000000'],
    ['a frontier at the reservation burns it to 0 remaining', 24, 256, '464.000000000', '768.000000000', '0.000000000'],
  ])('%s', async (_name, accounted, frontier, total_credits, burned_credits, remaining_credits) => {
    const response = await postJson(app(), '/realtime-delta', delta(accounted, frontier));
    expectOk(response);
    const body = response.json<RealtimeDelta>();
    expect(body.consumption.total_credits).toBe(total_credits);
    expect(body.reservation).toStrictEqual({ reserved_credits: '768.000000000', burned_credits, remaining_credits });
  });

  it('a reservation of no completion token still covers the prompt', async () => {
    const response = await postJson(app(), '/realtime-delta', delta(0, 0, { reserved_completion_tokens: 0 }));
    expectOk(response);
    const body = response.json<RealtimeDelta>();
    expect(body.prompt_tokens_delta).toBe(128);
    expect(body.reservation).toStrictEqual({ reserved_credits: '256.000000000', burned_credits: '256.000000000', remaining_credits: '0.000000000' });
  });

  it.each([
    [300, 44],
    [257, 1],
    [2 ** 32 - 1 - 128, 2 ** 32 - 1 - 128 - 256],
  ])('a frontier of %i is a 409 that names by how many tokens (%i) it goes past', async (frontier, excess) => {
    const response = await postJson(app(), '/realtime-delta', delta(24, frontier), ID_HEADER);
    expectExactProblem(response, reservationExceeded('frontier_completion_tokens', 256, excess));
  });

  it('a frontier past the reservation is a 409 even when nothing is new', async () => {
    const response = await postJson(app(), '/realtime-delta', delta(300, 300), ID_HEADER);
    expectExactProblem(response, reservationExceeded('frontier_completion_tokens', 256, 44));
  });

  it('a broken rule is a 422 before any reservation is checked', async () => {
    const response = await postJson(app(), '/realtime-delta', delta(310, 300), ID_HEADER);
    expectExactProblem(response, oneViolation('/frontier_completion_tokens', 'must be at least accounted_completion_tokens (310)'));
  });

  it('a reservation that the prompt pushes past the 32-bit counters is a 422', async () => {
    const response = await postJson(app(), '/realtime-delta', delta(24, 32, { reserved_completion_tokens: 2 ** 32 - 1 }), ID_HEADER);
    expectExactProblem(response, oneViolation('/reserved_completion_tokens', 'prompt_tokens + reserved_completion_tokens must be at most 4294967295'));
  });

  it('without a reservation the answer has no reservation, and no frontier is too far', async () => {
    const { reserved_completion_tokens: _reserved, job_id: _job, ...plain } = delta(24, 300);
    const response = await postJson(app(), '/realtime-delta', plain);
    expectOk(response);
    expect(Object.keys(response.json<object>())).toEqual([
      'policy_version',
      'prompt_tokens_delta',
      'completion_tokens_delta',
      'frontier_completion_tokens',
      'contribution',
      'consumption',
    ]);
  });

  it('along a stream, burned_credits is the sum of the burns so far, and burned + remaining = reserved', async () => {
    const frontiers = [10, 32, 180, 256];
    const burns: string[] = [];
    let accounted = 0;
    for (const frontier of frontiers) {
      const response = await postJson(app(), '/realtime-delta', delta(accounted, frontier));
      expectOk(response);
      const body = response.json<RealtimeDelta>();
      burns.push(body.consumption.total_credits);
      const { reserved_credits, burned_credits, remaining_credits } = body.reservation!;
      expect(burned_credits, `at ${frontier}`).toBe(sumCredits(burns, 9));
      expect(sumCredits([burned_credits, remaining_credits], 9), `at ${frontier}`).toBe(reserved_credits);
      accounted = frontier;
    }
    expect(burns).toEqual(['276.000000000', '44.000000000', '296.000000000', '152.000000000']);
  });
});

describe('POST /settle with a reconciliation', () => {
  const app = useApp();

  it('answers the README example exactly: 616 of 768 reserved, 576 streamed, the final 40 split between the workers, 152 released', async () => {
    const response = await postJson(app(), '/settle', SETTLE_EXAMPLE);
    expectOk(response);
    expect(response.json()).toStrictEqual(README_SETTLEMENT);
  });

  it('the final delta burns the prompt too when the stream did not: 256 + 40, split as a contribution', async () => {
    const response = await postJson(app(), '/settle', { ...SETTLE_EXAMPLE, prompt_credits_accounted: false });
    expectOk(response);
    const body = response.json<Settlement>();
    expect(body.reconciliation).toStrictEqual({
      reserved_credits: '768.000000000',
      streamed_credits: '320.000000000',
      final_delta_credits: '296.000000000',
      release_credits: '152.000000000',
    });
    expect(body.contribution).toStrictEqual({
      policy_version: 'divy-credit-1',
      job_credit_budget: '296.000000000',
      assignments: [
        { worker_id: 'fast-metal', credits: '253.714285714', ...README_WORKER_FACTORS.fast },
        { worker_id: 'slow-cpu', credits: '42.285714286', ...README_WORKER_FACTORS.slow },
      ],
    });
  });

  it('settles the stream it follows to the unit: streamed = the sum of the burns, streamed + final delta = total, total + release = reserved', async () => {
    const burns: string[] = [];
    let accounted = 0;
    for (const frontier of [10, 32, 160]) {
      const response = await postJson(app(), '/realtime-delta', delta(accounted, frontier));
      expectOk(response);
      burns.push(response.json<RealtimeDelta>().consumption.total_credits);
      accounted = frontier;
    }
    const response = await postJson(app(), '/settle', SETTLE_EXAMPLE);
    expectOk(response);
    const { total_credits, reconciliation } = response.json<Settlement>();
    expect(reconciliation!.streamed_credits).toBe(sumCredits(burns, 9));
    expect(sumCredits([reconciliation!.streamed_credits, reconciliation!.final_delta_credits], 9)).toBe(total_credits);
    expect(sumCredits([total_credits, reconciliation!.release_credits], 9)).toBe(reconciliation!.reserved_credits);
  });

  it('a job that used its whole reservation releases nothing, and posts no release', async () => {
    const response = await postJson(app(), '/settle', { ...SETTLE_EXAMPLE, actual_completion_tokens: 256 });
    expectOk(response);
    const body = response.json<Settlement>();
    expect(body.reconciliation).toStrictEqual({
      reserved_credits: '768.000000000',
      streamed_credits: '576.000000000',
      final_delta_credits: '192.000000000',
      release_credits: '0.000000000',
    });
    expect(body.postings!.map((posting) => posting.credit_account)).toEqual(['worker:fast-metal', 'worker:slow-cpu']);
  });

  it('with nothing left to burn, needs no workers: no contribution, and the release is the only posting', async () => {
    const { total_columns: _columns, assignments: _assignments, ...withoutWorkers } = SETTLE_EXAMPLE;
    const response = await postJson(app(), '/settle', { ...withoutWorkers, accounted_completion_tokens: 180 });
    expectOk(response);
    const body = response.json<Settlement>();
    expect(body).toStrictEqual({
      ...README_SETTLE_CONSUMPTION,
      reconciliation: {
        reserved_credits: '768.000000000',
        streamed_credits: '616.000000000',
        final_delta_credits: '0.000000000',
        release_credits: '152.000000000',
      },
      job_id: 'job-42',
      delta_id: body.delta_id,
      postings: [
        { id: '78b4045b9a3336cc255b6fcb8bc51084', kind: 'release', debit_account: 'job:job-42:reservation', credit_account: 'job:job-42:submitter', amount: '152.000000000' },
      ],
    });
    expect(body.delta_id).toMatch(HEX_128);
  });

  it.each([
    ['no assignments and no columns', (({ total_columns: _columns, assignments: _assignments, ...rest }) => rest)(SETTLE_EXAMPLE)],
    ['an empty list of assignments', { ...SETTLE_EXAMPLE, assignments: [] }],
  ])('a final delta to burn with %s is a 422 that names the credits to pay', async (_name, body) => {
    const response = await postJson(app(), '/settle', body, ID_HEADER);
    expectExactProblem(response, oneViolation('/assignments', 'must hold at least one assignment: the final delta of 40.000000000 credits is paid to the workers'));
  });

  it.each([
    [257, 1],
    [300, 44],
  ])('%i completion tokens of a reservation of 256 are a 409 that names by how many tokens (%i)', async (actual, excess) => {
    const response = await postJson(app(), '/settle', { ...SETTLE_EXAMPLE, actual_completion_tokens: actual }, ID_HEADER);
    expectExactProblem(response, reservationExceeded('actual_completion_tokens', 256, excess));
  });

  it('accounted_completion_tokens above actual_completion_tokens is a 422', async () => {
    const response = await postJson(app(), '/settle', { ...SETTLE_EXAMPLE, accounted_completion_tokens: 181 }, ID_HEADER);
    expectExactProblem(response, oneViolation('/accounted_completion_tokens', 'must be at most actual_completion_tokens (180)'));
  });

  it.each([
    ['accounted_completion_tokens', { accounted_completion_tokens: 160 }],
    ['prompt_credits_accounted', { prompt_credits_accounted: true }],
    ['both', { accounted_completion_tokens: 160, prompt_credits_accounted: false }],
  ])('%s without reserved_completion_tokens is a 422', async (_name, stream) => {
    const { prompt_tokens, actual_completion_tokens, total_model_bytes } = SETTLE_EXAMPLE;
    const response = await postJson(app(), '/settle', { prompt_tokens, actual_completion_tokens, total_model_bytes, ...stream }, ID_HEADER);
    expectExactProblem(
      response,
      oneViolation(
        '/reserved_completion_tokens',
        'is required with accounted_completion_tokens or prompt_credits_accounted: the stream is reconciled against the reservation',
      ),
    );
  });

  it('assignments come with total_columns, and total_columns with assignments', async () => {
    const { total_columns: _columns, ...withoutColumns } = SETTLE_EXAMPLE;
    expectExactProblem(await postJson(app(), '/settle', withoutColumns, ID_HEADER), oneViolation('/total_columns', 'is required with assignments'));
    const { assignments: _assignments, ...withoutAssignments } = SETTLE_EXAMPLE;
    expectExactProblem(await postJson(app(), '/settle', withoutAssignments, ID_HEADER), oneViolation('/assignments', 'is required with total_columns'));
  });

  it('without a reservation, workers split the whole job: exactly what POST /contribution answers', async () => {
    const { prompt_tokens, actual_completion_tokens, total_model_bytes, total_columns, assignments } = SETTLE_EXAMPLE;
    const response = await postJson(app(), '/settle', { prompt_tokens, actual_completion_tokens, total_model_bytes, total_columns, assignments });
    expectOk(response);
    const body = response.json<Settlement>();
    expect(Object.keys(body)).toEqual(['policy_version', 'model_size_factor', 'prompt_credits', 'completion_credits', 'total_credits', 'contribution']);
    const contribution = await postJson(app(), '/contribution', CONTRIBUTION_EXAMPLE);
    expect(body.contribution).toStrictEqual(contribution.json<Contribution>());
    expect(body.contribution!.job_credit_budget).toBe('616.000000000');
  });
});

describe('a job id: delta ids and ledger postings', () => {
  const app = useApp();

  /** The postings of a burn: from the job's reservation to each worker paid, summing to the burn. */
  function expectPayouts(postings: readonly Posting[], contribution: Contribution, job_id: string): void {
    const paid = contribution.assignments.filter((worker) => !/^0+\.0+$/.test(worker.credits));
    expect(postings.map(({ kind, debit_account, credit_account, amount }) => ({ kind, debit_account, credit_account, amount }))).toEqual(
      paid.map((worker) => ({ kind: 'payout', debit_account: `job:${job_id}:reservation`, credit_account: `worker:${worker.worker_id}`, amount: worker.credits })),
    );
    for (const posting of postings) expect(posting.id).toMatch(HEX_128);
    expect(sumCredits(postings.map((posting) => posting.amount), 9)).toBe(contribution.job_credit_budget);
  }

  it('a realtime delta answers its delta_id and one posting per worker paid, summing to the burn', async () => {
    const response = await postJson(app(), '/realtime-delta', REALTIME_DELTA_EXAMPLE);
    expectOk(response);
    const body = response.json<RealtimeDelta>();
    expect(body.job_id).toBe('job-42');
    expect(body.delta_id).toBe('852501d61559a8be58b00f465c5cc867');
    expectPayouts(body.postings!, body.contribution, 'job-42');
    expect(sumCredits(body.postings!.map((posting) => posting.amount), 9)).toBe(body.consumption.total_credits);
  });

  it.each([
    ['/realtime-delta', REALTIME_DELTA_EXAMPLE],
    ['/settle', SETTLE_EXAMPLE],
  ] as const)('%s answers the same request with a byte-identical body', async (route, body) => {
    const first = await postJson(app(), route, body);
    const second = await postJson(app(), route, body);
    expectOk(first);
    expect(second.statusCode).toBe(200);
    expect(second.body === first.body, 'the two answers differ').toBe(true);
    expect(second.rawPayload.equals(first.rawPayload)).toBe(true);
  });

  it('every delta of a job has its own id, and so has every posting', async () => {
    const bodies: RealtimeDelta[] = [];
    let accounted = 0;
    for (const frontier of [10, 32, 160]) {
      const response = await postJson(app(), '/realtime-delta', delta(accounted, frontier));
      expectOk(response);
      bodies.push(response.json<RealtimeDelta>());
      accounted = frontier;
    }
    const other = await postJson(app(), '/realtime-delta', delta(0, 10, { job_id: 'job-43' }));
    bodies.push(other.json<RealtimeDelta>());
    const deltaIds = bodies.map((body) => body.delta_id!);
    expect(new Set(deltaIds).size).toBe(deltaIds.length);
    const postingIds = bodies.flatMap((body) => body.postings!.map((posting) => posting.id));
    expect(postingIds).toHaveLength(2 * bodies.length);
    expect(new Set(postingIds).size).toBe(postingIds.length);
    // The same counters of another job post to that job's reservation.
    expect(bodies[3]!.postings!.map((posting) => posting.debit_account)).toEqual(['job:job-43:reservation', 'job:job-43:reservation']);
  });

  it('a settlement\'s final delta has the id and the payouts of the realtime delta over the same counters', async () => {
    const settlement = (await postJson(app(), '/settle', SETTLE_EXAMPLE)).json<Settlement>();
    const streamed = await postJson(app(), '/realtime-delta', delta(160, 180));
    expectOk(streamed);
    const body = streamed.json<RealtimeDelta>();
    expect(settlement.delta_id).toBe(body.delta_id);
    expect(settlement.postings!.slice(0, -1)).toStrictEqual(body.postings);
    expect(settlement.contribution).toStrictEqual(body.contribution);
  });

  it('a settlement posts the final delta to the workers and the release to the submitter; the release of a job has one id', async () => {
    const settlement = (await postJson(app(), '/settle', SETTLE_EXAMPLE)).json<Settlement>();
    expectPayouts(settlement.postings!.slice(0, -1), settlement.contribution!, 'job-42');
    expect(sumCredits(settlement.postings!.slice(0, -1).map((posting) => posting.amount), 9)).toBe(settlement.reconciliation!.final_delta_credits);
    const release = settlement.postings!.at(-1)!;
    expect(release).toMatchObject({ kind: 'release', debit_account: 'job:job-42:reservation', credit_account: 'job:job-42:submitter', amount: '152.000000000' });
    // A corrected settlement of the same job releases less under the same id: a ledger applies the first one only.
    const corrected = (await postJson(app(), '/settle', { ...SETTLE_EXAMPLE, actual_completion_tokens: 200 })).json<Settlement>();
    expect(corrected.postings!.at(-1)).toStrictEqual({ ...release, amount: '112.000000000' });
    expect(corrected.delta_id).not.toBe(settlement.delta_id);
  });

  describe('in whole credits', () => {
    const whole = useApp({ settings: { ...DEFAULT_POLICY_SETTINGS, credit_scale: 0 } });

    it('a worker whose payout is zero gets no posting', async () => {
      // One token at factor 1: one credit for two workers, which goes to the first.
      const response = await postJson(whole(), '/realtime-delta', delta(0, 1, { prompt_tokens: 0, total_model_bytes: 0 }));
      expectOk(response);
      const body = response.json<RealtimeDelta>();
      expect(body.contribution.assignments.map((worker) => worker.credits)).toEqual(['1', '0']);
      expect(body.postings).toStrictEqual([
        { id: body.postings![0]!.id, kind: 'payout', debit_account: 'job:job-42:reservation', credit_account: 'worker:fast-metal', amount: '1' },
      ]);
      expect(body.postings![0]!.id).toMatch(HEX_128);
    });
  });

  it('without a job id the answers carry no job id, delta id or postings', async () => {
    const { job_id: _deltaJob, ...deltaInput } = REALTIME_DELTA_EXAMPLE;
    const deltaBody = (await postJson(app(), '/realtime-delta', deltaInput)).json<object>();
    expect(Object.keys(deltaBody)).toEqual(['policy_version', 'prompt_tokens_delta', 'completion_tokens_delta', 'frontier_completion_tokens', 'contribution', 'consumption', 'reservation']);
    const { job_id: _settleJob, ...settleInput } = SETTLE_EXAMPLE;
    const settleBody = (await postJson(app(), '/settle', settleInput)).json<object>();
    expect(Object.keys(settleBody)).toEqual(['policy_version', 'model_size_factor', 'prompt_credits', 'completion_credits', 'total_credits', 'reconciliation', 'contribution']);
  });

  it.each([
    ['/realtime-delta', REALTIME_DELTA_EXAMPLE],
    ['/settle', SETTLE_EXAMPLE],
  ] as const)('%s: a job id of 1 to 128 characters passes, an empty or a longer one is a 422', async (route, body) => {
    for (const job_id of ['j', 'x'.repeat(128), '😀'.repeat(128)]) {
      const response = await postJson(app(), route, { ...body, job_id });
      expectOk(response);
      expect(response.json<{ job_id: string }>().job_id).toBe(job_id);
    }
    for (const job_id of ['', 'x'.repeat(129)]) {
      const response = await postJson(app(), route, { ...body, job_id }, ID_HEADER);
      expectExactProblem(response, oneViolation('/job_id', 'must be a string of 1 to 128 characters'));
    }
  });
});

/** Two policies side by side: the default one, and a newer, current one that doubles the price of big models. */
const OLD: PolicySettings = { ...DEFAULT_POLICY_SETTINGS, parameters: { ...DEFAULT_POLICY_PARAMETERS, version: 'v-old' } };
const NEW: PolicySettings = { ...DEFAULT_POLICY_SETTINGS, parameters: { ...DEFAULT_POLICY_PARAMETERS, version: 'v-new', model_size_scale_gib: 16 } };
const DEPLOYMENT = { credit_scale: 9, max_assignments: 10_000 };
const CATALOG = catalogOf('v-new', [OLD.parameters, NEW.parameters], DEPLOYMENT);

/** GET /policy's view of parameters: without their version. */
function shown(settings: PolicySettings) {
  const { version: _version, ...parameters } = settings.parameters;
  return parameters;
}

/** GET /policy with both: the current policy, and both listed in order, the current one marked. */
const BOTH_SHOWN = {
  policy_version: 'v-new',
  credit_scale: 9,
  max_assignments: 10_000,
  parameters: shown(NEW),
  policies: [
    { policy_version: 'v-old', current: false, parameters: shown(OLD) },
    { policy_version: 'v-new', current: true, parameters: shown(NEW) },
  ],
};

describe('policy versions side by side', () => {
  const app = useApp({ catalog: CATALOG });
  const single = useApp();

  it('prices a quote by the current policy when it names none, and by the one it names', async () => {
    const current = await postJson(app(), '/quote', QUOTE_EXAMPLE);
    expectOk(current);
    // 64 GiB / 16 GiB: 4 credits a token; the budget of 700 affords (700 - 512) / 4 = 47 tokens.
    expect(current.json()).toStrictEqual({
      policy_version: 'v-new',
      model_size_factor: 4,
      prompt_credits: '512.000000000',
      completion_credits: '1024.000000000',
      total_credits: '1536.000000000',
      max_affordable_completion_tokens: 47,
    });
    const named = await postJson(app(), '/quote', { ...QUOTE_EXAMPLE, policy_version: 'v-new' });
    expect(named.body).toBe(current.body);
    const old = await postJson(app(), '/quote', { ...QUOTE_EXAMPLE, policy_version: 'v-old' });
    expectOk(old);
    expect(old.json()).toStrictEqual({ ...README_QUOTE_CONSUMPTION, policy_version: 'v-old', max_affordable_completion_tokens: 222 });
  });

  it('prices every route by the version it names, exactly as that policy alone would', async () => {
    const bodies = { '/quote': QUOTE_EXAMPLE, '/settle': SETTLE_EXAMPLE, '/contribution': CONTRIBUTION_EXAMPLE, '/realtime-delta': REALTIME_DELTA_EXAMPLE };
    const priced = {
      '/quote': (settings: PolicySettings) => quoteConsumption(QUOTE_EXAMPLE, settings),
      '/settle': (settings: PolicySettings) => settleConsumption(SETTLE_EXAMPLE, settings),
      '/contribution': (settings: PolicySettings) => computeContribution(CONTRIBUTION_EXAMPLE, settings),
      '/realtime-delta': (settings: PolicySettings) => computeRealtimeDelta(REALTIME_DELTA_EXAMPLE, settings),
    };
    for (const route of POST_ROUTES) {
      for (const settings of [OLD, NEW]) {
        const version = settings.parameters.version;
        const response = await postJson(app(), route, { ...bodies[route], policy_version: version });
        expectOk(response);
        const body = response.json<{ policy_version: string }>();
        expect(body.policy_version, `${route} ${version}`).toBe(version);
        expect(body, `${route} ${version}`).toStrictEqual(priced[route](settings));
      }
    }
    // The two policies do price differently: the whole job costs 616 credits under one and 1232 under the other.
    const [old, current] = await Promise.all(
      ['v-old', 'v-new'].map(async (policy_version) => (await postJson(app(), '/contribution', { ...CONTRIBUTION_EXAMPLE, policy_version })).json<Contribution>()),
    );
    expect([old!.job_credit_budget, current!.job_credit_budget]).toEqual(['616.000000000', '1232.000000000']);
  });

  it('a job quoted under the old policy keeps it after the new one became current: its deltas sum to its settlement', async () => {
    const burns: string[] = [];
    let accounted = 0;
    for (const frontier of [10, 32, 160]) {
      const response = await postJson(app(), '/realtime-delta', delta(accounted, frontier, { policy_version: 'v-old' }));
      expectOk(response);
      const body = response.json<RealtimeDelta>();
      expect(body.contribution.policy_version).toBe('v-old');
      burns.push(body.consumption.total_credits);
      accounted = frontier;
    }
    const response = await postJson(app(), '/settle', { ...SETTLE_EXAMPLE, policy_version: 'v-old' });
    expectOk(response);
    const settlement = response.json<Settlement>();
    expect(settlement.reconciliation).toStrictEqual({
      reserved_credits: '768.000000000',
      streamed_credits: sumCredits(burns, 9),
      final_delta_credits: '40.000000000',
      release_credits: '152.000000000',
    });
    expect(settlement.total_credits).toBe('616.000000000');
  });

  it('the delta ids and postings of a version are its own', async () => {
    const old = (await postJson(app(), '/realtime-delta', { ...REALTIME_DELTA_EXAMPLE, policy_version: 'v-old' })).json<RealtimeDelta>();
    const current = (await postJson(app(), '/realtime-delta', REALTIME_DELTA_EXAMPLE)).json<RealtimeDelta>();
    // Under the default policy's version, the same parameters as v-old, the README delta has the README's id.
    const readme = (await postJson(single(), '/realtime-delta', REALTIME_DELTA_EXAMPLE)).json<RealtimeDelta>();
    expect(readme.delta_id).toBe('852501d61559a8be58b00f465c5cc867');
    expect(new Set([old.delta_id, current.delta_id, readme.delta_id]).size).toBe(3);
    expect(current.postings!.map((posting) => posting.amount)).toEqual(['27.428571429', '4.571428571']);
    expect(old.postings!.map((posting) => posting.amount)).toEqual(['13.714285714', '2.285714286']);
  });

  it.each(POST_ROUTES)('%s: an unknown version is a 422 that names the known ones', async (route) => {
    const bodies = { '/quote': QUOTE_EXAMPLE, '/settle': SETTLE_EXAMPLE, '/contribution': CONTRIBUTION_EXAMPLE, '/realtime-delta': REALTIME_DELTA_EXAMPLE };
    const response = await postJson(app(), route, { ...bodies[route], policy_version: 'v-nope' }, ID_HEADER);
    expectExactProblem(response, oneViolation('/policy_version', 'must be one of the versions this service knows: v-old, v-new'));
  });

  /** The 422 of an unknown version and the other rules a request breaks: the version first. */
  function versionAnd(...others: { path: string; message: string }[]): ProblemBody {
    return ruleViolations({ path: '/policy_version', message: 'must be one of the versions this service knows: v-old, v-new' }, ...others);
  }

  it.each([
    ['/quote', { ...QUOTE_EXAMPLE, prompt_tokens: -1 }, [{ path: '/prompt_tokens', message: 'must be an integer from 0 to 4294967295' }]],
    [
      '/quote',
      { ...QUOTE_EXAMPLE, budget_credits: '1.2345678901' },
      [{ path: '/budget_credits', message: 'must be a decimal string of credits: up to 24 digits, then at most 9 fraction digits' }],
    ],
    ['/settle', { ...SETTLE_EXAMPLE, actual_completion_tokens: 100 }, [{ path: '/accounted_completion_tokens', message: 'must be at most actual_completion_tokens (100)' }]],
    ['/contribution', { ...CONTRIBUTION_EXAMPLE, total_columns: 4096 }, [{ path: '/assignments/1/shard_column_end', message: 'must be at most total_columns (4096)' }]],
    ['/realtime-delta', delta(24, 10), [{ path: '/frontier_completion_tokens', message: 'must be at least accounted_completion_tokens (24)' }]],
    [
      '/realtime-delta',
      delta(24, 32, { prompt_tokens: 2 ** 32, total_columns: 0 }),
      [
        { path: '/prompt_tokens', message: 'must be an integer from 0 to 4294967295' },
        { path: '/total_columns', message: 'must be an integer from 1 to 4294967295' },
      ],
    ],
  ] as const)('%s: an unknown version and other broken rules are one 422 that lists the version first, then the rest', async (route, body, others) => {
    const response = await postJson(app(), route, { ...body, policy_version: 'v-nope' }, ID_HEADER);
    expectExactProblem(response, versionAnd(...others));
    // Under a known version the same request breaks the other rules alone.
    const known = await postJson(app(), route, { ...body, policy_version: 'v-old' }, ID_HEADER);
    expectExactProblem(known, ruleViolations(...others));
  });

  it.each([
    ['/realtime-delta', delta(24, 300), 'frontier_completion_tokens'],
    ['/settle', { ...SETTLE_EXAMPLE, actual_completion_tokens: 300 }, 'actual_completion_tokens'],
  ] as const)('%s: an unknown version of a job past its reservation is the version 422 alone; the 409 is for a known policy to say', async (route, body, field) => {
    const unknown = await postJson(app(), route, { ...body, policy_version: 'v-nope' }, ID_HEADER);
    expectExactProblem(unknown, versionAnd());
    const known = await postJson(app(), route, { ...body, policy_version: 'v-old' }, ID_HEADER);
    expectExactProblem(known, reservationExceeded(field, 256, 44));
  });

  it('an unknown version with a field missing is the 400 alone: the body is read before any policy prices it', async () => {
    const { prompt_tokens: _prompt, ...missing } = QUOTE_EXAMPLE;
    const response = await postJson(app(), '/quote', { ...missing, policy_version: 'v-nope' }, ID_HEADER);
    expectExactProblem(response, invalidRequest({ path: '/prompt_tokens', message: 'is required' }));
  });

  it('a batch answers each update with an unknown version as /realtime-delta does: the version first, or alone past the reservation', async () => {
    const updates = [delta(24, 10, { policy_version: 'v-nope' }), delta(24, 300, { policy_version: 'v-nope' })];
    const response = await postJson(app(), '/realtime-delta/batch', { updates }, ID_HEADER);
    expectOk(response);
    const { results } = response.json<{ results: { status: number; problem: ProblemBody }[] }>();
    expect(results).toStrictEqual([
      { status: 422, problem: versionAnd({ path: '/frontier_completion_tokens', message: 'must be at least accounted_completion_tokens (24)' }) },
      { status: 422, problem: versionAnd() },
    ]);
    for (const [index, update] of updates.entries()) {
      const alone = await postJson(app(), '/realtime-delta', update, ID_HEADER);
      expect(alone.json(), `update ${index}`).toStrictEqual(results[index]!.problem);
    }
  });

  it('a version that is not a string is a 400', async () => {
    const response = await postJson(app(), '/quote', { ...QUOTE_EXAMPLE, policy_version: 2 }, ID_HEADER);
    expectExactProblem(response, invalidRequest({ path: '/policy_version', message: 'must be a string' }));
  });

  it('GET /policy shows the current policy and lists both, in order, marking the current one', async () => {
    const response = await app().inject({ method: 'GET', url: '/policy' });
    expectOk(response);
    expect(response.json()).toStrictEqual(BOTH_SHOWN);
    expect(shown(NEW).model_size_scale_gib).toBe(16);
    expect(shown(OLD).model_size_scale_gib).toBe(32);
  });

  it.each([
    ['v-old', OLD, false],
    ['v-new', NEW, true],
  ] as const)('GET /policy/%s answers that policy', async (version, settings, current) => {
    const response = await app().inject({ method: 'GET', url: `/policy/${version}` });
    expectOk(response);
    expect(response.json()).toStrictEqual({ policy_version: version, current, credit_scale: 9, max_assignments: 10_000, parameters: shown(settings) });
  });

  it.each(['v-nope', 'V-NEW', 'v-new '])('GET /policy/%s is a 404 problem that lists the known versions', async (version) => {
    const response = await app().inject({ method: 'GET', url: `/policy/${encodeURIComponent(version)}`, headers: ID_HEADER });
    expectExactProblem(response, {
      type: 'urn:divy:problem:not-found',
      title: 'Not Found',
      status: 404,
      detail: `No policy has version ${JSON.stringify(version)}; the known versions are v-old, v-new.`,
      request_id: REQUEST_ID,
    });
  });

  it('documents every version it serves, and the current one', async () => {
    const { document } = await servedDocument(app());
    for (const route of POST_ROUTES) {
      expect(property(document, requestBody(document, route), 'policy_version')['description'], route).toBe(
        'The policy to price the job by: v-old, v-new. Absent means the current one, v-new. Name the quote\'s version in every later request, so a policy rolled out while the job runs does not change its prices.',
      );
    }
    const [example] = document.components.schemas['PolicyDocument']!['examples'] as unknown[];
    expect(example).toStrictEqual((await app().inject({ method: 'GET', url: '/policy' })).json());
  });

  describe('with a version that a URL must escape', () => {
    const escaped = useApp({ catalog: catalogOf('team/v 3', [{ ...DEFAULT_POLICY_PARAMETERS, version: 'team/v 3' }], DEPLOYMENT) });

    it('GET /policy/{version} finds it percent-encoded', async () => {
      const response = await escaped().inject({ method: 'GET', url: `/policy/${encodeURIComponent('team/v 3')}` });
      expectOk(response);
      expect(response.json()).toMatchObject({ policy_version: 'team/v 3', current: true });
    });
  });
});

describe('POLICY_FILE with several policies', () => {
  const policyFile = useTempDir('divy-job-life-test-').writeJson;

  /** The message of the ConfigError loadConfig throws; fails the test if it throws nothing or something else. */
  function refusal(env: NodeJS.ProcessEnv): string {
    try {
      loadConfig(env);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as ConfigError).message;
    }
    throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
  }

  const settingsError = (path: string, problems: string) => `invalid policy settings from POLICY_FILE ${path} with CREDIT_SCALE and MAX_ASSIGNMENTS: ${problems}`;
  const fileError = (path: string, problems: string) => `invalid configuration in the POLICY_FILE ${path}: ${problems}`;

  it('lists the policies in order, each overriding the defaults, with the environment\'s scale and bound, and which is current', () => {
    const path = policyFile('two.json', {
      current: 'b',
      policies: [
        { version: 'a', throughput_multiplier_min: 0.25 },
        { version: 'b', model_size_scale_gib: 16, resource_multiplier_span: 0.5 },
      ],
    });
    const { catalog } = loadConfig({ POLICY_FILE: path, CREDIT_SCALE: '4', MAX_ASSIGNMENTS: '7' });
    expect(catalog).toStrictEqual({
      current: 'b',
      policies: new Map([
        ['a', { credit_scale: 4, max_assignments: 7, parameters: { ...DEFAULT_POLICY_PARAMETERS, version: 'a', throughput_multiplier_min: 0.25 } }],
        ['b', { credit_scale: 4, max_assignments: 7, parameters: { ...DEFAULT_POLICY_PARAMETERS, version: 'b', model_size_scale_gib: 16, resource_multiplier_span: 0.5 } }],
      ]),
    });
    expect([...catalog.policies.keys()]).toEqual(['a', 'b']);
  });

  it('holds up to 32 policies', () => {
    const versions = Array.from({ length: 32 }, (_, index) => `v${index}`);
    const path = policyFile('thirty-two.json', { current: 'v31', policies: versions.map((version) => ({ version })) });
    const { catalog } = loadConfig({ POLICY_FILE: path });
    expect(catalog.current).toBe('v31');
    expect([...catalog.policies.keys()]).toEqual(versions);
  });

  describe('served by an app', () => {
    const app = useApp(() => ({
      catalog: loadConfig({ POLICY_FILE: policyFile('served.json', { current: 'v-new', policies: [{ version: 'v-old' }, { version: 'v-new', model_size_scale_gib: 16 }] }) })
        .catalog,
    }));

    it('is what GET /policy lists, and what the routes price by', async () => {
      const response = await app().inject({ method: 'GET', url: '/policy' });
      expect(response.json()).toStrictEqual(BOTH_SHOWN);
      const old = await postJson(app(), '/quote', { ...QUOTE_EXAMPLE, policy_version: 'v-old' });
      expect(old.json()).toMatchObject({ policy_version: 'v-old', total_credits: '768.000000000' });
    });
  });

  it.each([
    [
      'repeated versions, naming each once',
      { current: 'a', policies: [{ version: 'a' }, { version: 'b' }, { version: 'a', model_size_scale_gib: 16 }, { version: 'b' }] },
      (path: string) => settingsError(path, 'versions must be unique: a, b repeated'),
    ],
    [
      'a current version not among them',
      { current: 'c', policies: [{ version: 'a' }, { version: 'b' }] },
      (path: string) => settingsError(path, 'current (c) must be one of the versions: a, b'),
    ],
    ['an empty list', { current: 'a', policies: [] }, (path: string) => fileError(path, 'policies: must hold at least one policy')],
    [
      'more than 32 policies',
      { current: 'v0', policies: Array.from({ length: 33 }, (_, index) => ({ version: `v${index}` })) },
      (path: string) => fileError(path, 'policies: must hold at most 32 policies'),
    ],
    [
      'a parameter out of its range in the second policy',
      { current: 'a', policies: [{ version: 'a' }, { version: 'b', model_size_scale_gib: 0 }] },
      (path: string) => fileError(path, 'policies[1].model_size_scale_gib: must be a number from 9.313225746154785e-10 to 4194304'),
    ],
    [
      'parameters that make no sense together in the second policy',
      { current: 'a', policies: [{ version: 'a' }, { version: 'b', throughput_multiplier_min: 2, throughput_multiplier_max: 1 }] },
      (path: string) => settingsError(path, 'policies[1] (b): throughput_multiplier_min must be at most throughput_multiplier_max'),
    ],
    [
      'a policy without a version',
      { current: 'a', policies: [{ version: 'a' }, { model_size_scale_gib: 16 }] },
      (path: string) => fileError(path, 'policies[1].version: must be a non-empty string'),
    ],
    ['no current version', { policies: [{ version: 'a' }] }, (path: string) => fileError(path, 'current: must be a non-empty string')],
    ['policies that are not a list', { current: 'a', policies: { version: 'a' } }, (path: string) => fileError(path, 'policies: must be a list of policies')],
    [
      'a version beside the list',
      { current: 'a', version: 'a', policies: [{ version: 'a' }] },
      (path: string) => fileError(path, '(root): Unrecognized key: "version"'),
    ],
  ])('is refused with %s', (name, content, message) => {
    const path = policyFile(`${name.replaceAll(' ', '-')}.json`, content);
    expect(refusal({ POLICY_FILE: path })).toBe(message(path));
  });
});

describe('the README examples, as one job', () => {
  const app = useApp();

  it('the examples are one job: job-42, reserving 256 tokens, streaming 24 to 32 of them, and settling 180', () => {
    expect(QUOTE_EXAMPLE.requested_completion_tokens).toBe(REALTIME_DELTA_EXAMPLE.reserved_completion_tokens);
    expect(SETTLE_EXAMPLE.reserved_completion_tokens).toBe(QUOTE_EXAMPLE.requested_completion_tokens);
    expect(REALTIME_DELTA_EXAMPLE.job_id).toBe('job-42');
    expect(SETTLE_EXAMPLE.job_id).toBe('job-42');
    expect(SETTLE_EXAMPLE.assignments).toEqual(EXAMPLE_ASSIGNMENTS);
  });

  it('the quote\'s total is the reservation every delta and the settlement report', async () => {
    const quote = (await postJson(app(), '/quote', QUOTE_EXAMPLE)).json<{ total_credits: string }>();
    const realtime = (await postJson(app(), '/realtime-delta', REALTIME_DELTA_EXAMPLE)).json<RealtimeDelta>();
    const settlement = (await postJson(app(), '/settle', SETTLE_EXAMPLE)).json<Settlement>();
    expect(realtime.reservation!.reserved_credits).toBe(quote.total_credits);
    expect(settlement.reconciliation!.reserved_credits).toBe(quote.total_credits);
  });
});

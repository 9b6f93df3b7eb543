/**
 * The published document states the active policy: every app documents its own parameters,
 * credit scale, bound and examples, in its own registry, so apps with different policies in one
 * process never see each other's numbers, and the default app keeps serving the committed file.
 */
import { describe, expect, it } from 'vitest';
import { openapiDocument } from '../../src/http/openapi-document.js';
import { CONTRIBUTION_EXAMPLE, QUOTE_EXAMPLE, REALTIME_DELTA_EXAMPLE, SETTLE_EXAMPLE } from '../../src/http/schemas/examples.js';
import {
  computeContribution,
  computeRealtimeDelta,
  DEFAULT_POLICY_PARAMETERS,
  PARAMETER_NAMES,
  PARAMETER_SPECS,
  quoteConsumption,
  settleConsumption,
  type Contribution,
  type PolicySettings,
  type RealtimeDelta,
  type Settlement,
} from '../../src/policy/index.js';
import { decimalFields, decimalFieldsWithoutTheirExample } from '../support/decimal-fields.js';
import { creditPattern, POST_ROUTES, postJson, useApp } from '../support/http.js';
import {
  committedDocumentText,
  component,
  properties,
  property,
  requestBody,
  servedDocument,
  type OpenApiDocument,
  type Schema,
} from '../support/openapi.js';

const CUSTOM: PolicySettings = {
  parameters: {
    version: 'custom-1',
    model_size_scale_gib: 16,
    min_execution_time_secs: 0.01,
    reference_service_rate_min: 1e-12,
    throughput_multiplier_min: 0.25,
    throughput_multiplier_max: 2,
    resource_multiplier_base: 0.8,
    resource_multiplier_span: 0.4,
  },
  credit_scale: 6,
  max_assignments: 500,
};

/** A second custom policy: whole credits, and jobs of one worker, fewer than the example's two. */
const WHOLE: PolicySettings = {
  parameters: { ...DEFAULT_POLICY_PARAMETERS, version: 'whole-2', model_size_scale_gib: 64, throughput_multiplier_max: 3 },
  credit_scale: 0,
  max_assignments: 1,
};

const committedText = committedDocumentText();
const committed = JSON.parse(committedText) as OpenApiDocument;

/** The credit amounts of the document: [component, property]. */
const CREDIT_FIELDS = [
  ['Consumption', 'prompt_credits'],
  ['Consumption', 'completion_credits'],
  ['Consumption', 'total_credits'],
  ['Quote', 'prompt_credits'],
  ['Quote', 'completion_credits'],
  ['Quote', 'total_credits'],
  ['Settlement', 'prompt_credits'],
  ['Settlement', 'completion_credits'],
  ['Settlement', 'total_credits'],
  ['Contribution', 'job_credit_budget'],
  ['WorkerCredit', 'credits'],
  ['Reservation', 'reserved_credits'],
  ['Reservation', 'burned_credits'],
  ['Reservation', 'remaining_credits'],
  ['Reconciliation', 'reserved_credits'],
  ['Reconciliation', 'streamed_credits'],
  ['Reconciliation', 'final_delta_credits'],
  ['Reconciliation', 'release_credits'],
  ['Posting', 'amount'],
] as const;

function field(document: OpenApiDocument, schema: string, name: string): Schema {
  return property(document, component(document, schema), name);
}

function description(document: OpenApiDocument, schema: string, name: string): unknown {
  return field(document, schema, name)['description'];
}

/** Every leaf of a JSON value, by JSON Pointer. */
function leaves(value: unknown, pointer = ''): Map<string, unknown> {
  const found = new Map<string, unknown>();
  if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      for (const [at, leaf] of leaves(child, `${pointer}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`)) found.set(at, leaf);
    }
  } else {
    found.set(pointer, value);
  }
  return found;
}

describe('the document of an app with a custom policy', () => {
  // All alive at once, built in this order: every app has another with a different policy built
  // after it, which is where a registry shared by the apps would show.
  const defaultBefore = useApp();
  const custom = useApp({ settings: CUSTOM });
  const defaultAfter = useApp();
  const whole = useApp({ settings: WHOLE });

  it('states its parameters in the descriptions', async () => {
    const { document } = await servedDocument(custom());
    expect(description(document, 'WorkerAssignment', 'execution_time_ms')).toBe(
      'Wall time the worker spent on its shard (milliseconds); below 10 ms counts as 10 ms.',
    );
    expect(description(document, 'Consumption', 'model_size_factor')).toBe(
      'max(1, total_model_bytes / 16 GiB): the price of one token (credits per token).',
    );
    expect(description(document, 'WorkerCredit', 'throughput_multiplier')).toBe(
      'measured_service_rate / reference_service_rate, clamped to [0.25, 2] (ratio).',
    );
    expect(description(document, 'WorkerCredit', 'resource_pressure_multiplier')).toBe('0.8 + 0.4 x memory_pressure (ratio).');
    expect(description(document, 'WorkerCredit', 'measured_service_rate')).toBe(
      'Compute units per second: capacity x shard fraction / max(execution time, 0.01 s).',
    );
    expect(description(document, 'WorkerCredit', 'reference_service_rate')).toBe(
      'Median measured_service_rate of the job\'s workers, at least 1e-12 (compute units per second).',
    );
    for (const route of POST_ROUTES) {
      expect(property(document, requestBody(document, route), 'total_model_bytes')['description'], route).toBe(
        'Size of the whole model (bytes). Models above 16 GiB cost proportionally more per token.',
      );
    }
    for (const route of ['/contribution', '/realtime-delta']) {
      expect(property(document, requestBody(document, route), 'assignments')['description'], route).toBe(
        'The workers of the job, at most 500. Answers list them in this order.',
      );
    }
  });

  it('documents credit amounts with 6 fraction digits, the pattern its answers match', async () => {
    const { document } = await servedDocument(custom());
    for (const [schema, name] of CREDIT_FIELDS) {
      const credit = field(document, schema, name);
      expect(credit['pattern'], `${schema}.${name}`).toBe('^[0-9]+\\.[0-9]{6}$');
      expect(credit['pattern'], `${schema}.${name}`).toBe(creditPattern(6).source);
      expect(credit['description'], `${schema}.${name}`).toMatch(/ \(credits, a decimal string with exactly 6 fraction digits\)$/);
      expect(credit['example'], `${schema}.${name}`).toMatch(creditPattern(6));
    }
    const answer = await postJson(custom(), '/quote', QUOTE_EXAMPLE);
    expect(answer.json<{ total_credits: string }>().total_credits).toMatch(new RegExp(String(field(document, 'Consumption', 'total_credits')['pattern'])));
  });

  it('prices its examples under its policy: the realtime delta of 8 tokens burns 32 credits, 29.538462 + 2.461538', async () => {
    const { document } = await servedDocument(custom());
    const [delta] = component(document, 'RealtimeDelta')['examples'] as RealtimeDelta[];
    expect(delta).toEqual(computeRealtimeDelta(REALTIME_DELTA_EXAMPLE, CUSTOM));
    // By hand: 64 GiB / 16 GiB prices a token at 4 credits. The rates 13.33 and 2.22 have median
    // 7.78, so the multipliers 12/7 and 2/7 lie inside [0.25, 2]; memory is full for both, so
    // 0.8 + 0.4 = 1.2 each; the weights 2/3 x 12/7 and 1/3 x 2/7 split the credits 12 : 1.
    expect(delta).toMatchObject({
      policy_version: 'custom-1',
      prompt_tokens_delta: 0,
      completion_tokens_delta: 8,
      frontier_completion_tokens: 32,
      consumption: { policy_version: 'custom-1', model_size_factor: 4, prompt_credits: '0.000000', completion_credits: '32.000000', total_credits: '32.000000' },
      contribution: {
        policy_version: 'custom-1',
        job_credit_budget: '32.000000',
        assignments: [
          { worker_id: 'fast-metal', credits: '29.538462' },
          { worker_id: 'slow-cpu', credits: '2.461538' },
        ],
      },
    });
    const [fast, slow] = delta!.contribution.assignments;
    expect(fast!.throughput_multiplier).toBeCloseTo(12 / 7, 14);
    expect(slow!.throughput_multiplier).toBeCloseTo(2 / 7, 14);
    expect(fast!.resource_pressure_multiplier).toBeCloseTo(1.2, 14);
    expect(fast!.normalized_contribution_share).toBeCloseTo(12 / 13, 14);

    // The fields' own examples are the fast worker of that delta.
    for (const name of Object.keys(fast!) as (keyof typeof fast)[]) {
      expect(field(document, 'WorkerCredit', name)['example'], name).toBe(fast![name]);
    }
    expect(field(document, 'Contribution', 'job_credit_budget')['example']).toBe('32.000000');
  });

  it('prices the contribution and consumption examples under its policy: 1232 credits, 1137.230769 + 94.769231', async () => {
    const { document } = await servedDocument(custom());
    const [contribution] = component(document, 'Contribution')['examples'] as Contribution[];
    expect(contribution).toEqual(computeContribution(CONTRIBUTION_EXAMPLE, CUSTOM));
    expect(contribution!.job_credit_budget).toBe('1232.000000');
    expect(contribution!.assignments.map((worker) => worker.credits)).toEqual(['1137.230769', '94.769231']);
    const consumed = { policy_version: 'custom-1', model_size_factor: 4, prompt_credits: '512.000000', completion_credits: '1024.000000', total_credits: '1536.000000' };
    expect(component(document, 'Consumption')['examples']).toStrictEqual([consumed]);
    // The budget of 700 credits affords (700 - 512) / 4 = 47 tokens at 4 credits a token.
    expect(component(document, 'Quote')['examples']).toStrictEqual([{ ...consumed, max_affordable_completion_tokens: 47 }]);
    expect(component(document, 'Quote')['examples']).toStrictEqual([quoteConsumption(QUOTE_EXAMPLE, CUSTOM)]);
    expect(field(document, 'Consumption', 'model_size_factor')['example']).toBe(4);
    expect(field(document, 'Quote', 'max_affordable_completion_tokens')['example']).toBe(47);
  });

  it('prices the settlement example under its policy: 1232 credits, of 1536 reserved; the final 80 split 73.846154 + 6.153846', async () => {
    const { document } = await servedDocument(custom());
    const [settlement] = component(document, 'Settlement')['examples'] as Settlement[];
    expect(settlement).toStrictEqual(settleConsumption(SETTLE_EXAMPLE, CUSTOM));
    expect(settlement).toMatchObject({
      policy_version: 'custom-1',
      model_size_factor: 4,
      prompt_credits: '512.000000',
      completion_credits: '720.000000',
      total_credits: '1232.000000',
      // The prompt and 160 streamed tokens, 512 + 640; the final 20 tokens, 80; 1536 - 1232 released.
      reconciliation: { reserved_credits: '1536.000000', streamed_credits: '1152.000000', final_delta_credits: '80.000000', release_credits: '304.000000' },
      contribution: { policy_version: 'custom-1', job_credit_budget: '80.000000' },
    });
    expect(settlement!.contribution!.assignments.map((worker) => worker.credits)).toEqual(['73.846154', '6.153846']);
    expect(settlement!.postings!.map((posting) => [posting.credit_account, posting.amount])).toEqual([
      ['worker:fast-metal', '73.846154'],
      ['worker:slow-cpu', '6.153846'],
      ['job:job-42:submitter', '304.000000'],
    ]);
    for (const name of ['reserved_credits', 'streamed_credits', 'final_delta_credits', 'release_credits'] as const) {
      expect(field(document, 'Reconciliation', name)['example'], name).toBe(settlement!.reconciliation![name]);
    }
    // The reservation's examples are the realtime delta's: 512 + 128 of 512 + 1024 burned.
    const delta = computeRealtimeDelta(REALTIME_DELTA_EXAMPLE, CUSTOM)!;
    expect(delta.reservation).toStrictEqual({ reserved_credits: '1536.000000', burned_credits: '640.000000', remaining_credits: '896.000000' });
    for (const name of ['reserved_credits', 'burned_credits', 'remaining_credits'] as const) {
      expect(field(document, 'Reservation', name)['example'], name).toBe(delta.reservation![name]);
    }
  });

  it('documents exactly what it answers for the README examples', async () => {
    const { document } = await servedDocument(custom());
    const answers = await Promise.all([
      postJson(custom(), '/quote', QUOTE_EXAMPLE),
      postJson(custom(), '/settle', SETTLE_EXAMPLE),
      postJson(custom(), '/contribution', CONTRIBUTION_EXAMPLE),
      postJson(custom(), '/realtime-delta', REALTIME_DELTA_EXAMPLE),
    ]);
    for (const answer of answers) expect(answer.statusCode, answer.body).toBe(200);
    const [quote, settle, contribution, delta] = answers.map((answer) => answer.json<Record<string, unknown>>());
    const { max_affordable_completion_tokens: _affordable, ...consumed } = quote!;
    expect(component(document, 'Consumption')['examples']).toStrictEqual([consumed]);
    expect(component(document, 'Quote')['examples']).toStrictEqual([quote]);
    expect(component(document, 'Settlement')['examples']).toStrictEqual([settle]);
    expect(component(document, 'Contribution')['examples']).toStrictEqual([contribution]);
    expect(component(document, 'RealtimeDelta')['examples']).toStrictEqual([delta]);
    // The ledger fields' own examples are the realtime delta's id and first posting.
    const { delta_id, postings } = delta as { delta_id: string; postings: Record<string, string>[] };
    expect(field(document, 'RealtimeDelta', 'delta_id')['example']).toBe(delta_id);
    for (const name of ['id', 'kind', 'debit_account', 'credit_account', 'amount']) {
      expect(field(document, 'Posting', name)['example'], name).toBe(postings[0]![name]);
    }
    // Every field of an answer that has an example of its own shows its value in that answer's
    // example: the settlement's fields show the settlement's values, not the quote's.
    const exampled: string[] = [];
    for (const [name, answer] of [['Consumption', consumed], ['Quote', quote], ['Settlement', settle], ['RealtimeDelta', delta]] as const) {
      for (const [key, schema] of Object.entries(properties(document, component(document, name)))) {
        if (!('example' in schema)) continue;
        exampled.push(`${name}.${key}`);
        expect(schema['example'], `${name}.${key}`).toStrictEqual(answer![key]);
      }
    }
    expect(exampled.filter((name) => name.startsWith('Settlement.'))).toStrictEqual([
      'Settlement.policy_version',
      'Settlement.model_size_factor',
      'Settlement.prompt_credits',
      'Settlement.completion_credits',
      'Settlement.total_credits',
      'Settlement.job_id',
      'Settlement.delta_id',
    ]);
    expect(field(document, 'Settlement', 'total_credits')['example']).not.toBe(field(document, 'Quote', 'total_credits')['example']);
  });

  it('documents its version, credit scale and bound in the policy document', async () => {
    const { document } = await servedDocument(custom());
    expect(field(document, 'PolicyDocument', 'policy_version')['example']).toBe('custom-1');
    expect(field(document, 'PolicyDocument', 'credit_scale')['example']).toBe(6);
    expect(field(document, 'PolicyDocument', 'max_assignments')['example']).toBe(500);
    for (const schema of ['Consumption', 'Quote', 'Settlement', 'Contribution', 'RealtimeDelta', 'PolicyVersion']) {
      expect(field(document, schema, 'policy_version')['example'], schema).toBe('custom-1');
    }
    for (const route of POST_ROUTES) {
      expect(property(document, requestBody(document, route), 'policy_version'), route).toStrictEqual({
        type: 'string',
        description:
          'The policy to price the job by: custom-1. Absent means the current one, custom-1. Name the quote\'s version in every later request, so a policy rolled out while the job runs does not change its prices.',
        example: 'custom-1',
      });
    }
    // The examples of the policy documents are what the app answers.
    expect(component(document, 'PolicyDocument')['examples']).toStrictEqual([(await custom().inject({ method: 'GET', url: '/policy' })).json()]);
    expect(component(document, 'PolicyVersion')['examples']).toStrictEqual([(await custom().inject({ method: 'GET', url: '/policy/custom-1' })).json()]);
  });

  /** How the default policy shows in a document: version, scale GiB, clamps, resource terms, bound, time floor, rate floor, scale. */
  const DEFAULT_NUMBERS = ['divy-credit-1', '32 GiB', '[0.5, 1.5]', '0.85 + 0.3', 'at most 10000', '0.001 s', 'below 1 ms', '2.220446049250313e-16', '{9}', '.000000000"'];

  it('keeps no number of the default policy, outside the parameter table\'s own descriptions', async () => {
    const { document } = await servedDocument(custom());
    const withoutTable = structuredClone(document);
    // The table shows in the current policy, in each listed policy, and in one policy by version.
    const policyProperties = withoutTable.components.schemas['PolicyDocument']!['properties'] as Record<string, Schema>;
    delete policyProperties['parameters'];
    delete ((policyProperties['policies']!['items'] as Schema)['properties'] as Record<string, unknown>)['parameters'];
    delete (withoutTable.components.schemas['PolicyVersion']!['properties'] as Record<string, unknown>)['parameters'];
    const text = JSON.stringify(withoutTable);
    for (const stale of DEFAULT_NUMBERS) {
      expect(text, stale).not.toContain(stale);
    }
    // The default document does hold each of them, so the check above is not vacuous.
    for (const stale of DEFAULT_NUMBERS) {
      expect(committedText, stale).toContain(stale);
    }
  });

  it('differs from the default document only in descriptions, patterns and examples, never in shape or ranges', async () => {
    const { document } = await servedDocument(custom());
    const mine = leaves(document);
    const theirs = leaves(committed);
    // Inside an example, even the shape is the policy's: a refusal names the rules it breaks.
    const shaped = (pointer: string) => !pointer.includes('/examples/') && !pointer.includes('/example/');
    expect([...mine.keys()].filter(shaped).sort()).toEqual([...theirs.keys()].filter(shaped).sort());
    const changed = [...mine].filter(([pointer, value]) => theirs.get(pointer) !== value).map(([pointer]) => pointer);
    expect(changed.length).toBeGreaterThan(0);
    for (const pointer of changed) {
      // The one limit a policy sets itself: its max_assignments, documented as maxItems.
      if (pointer.endsWith('/properties/assignments/maxItems')) {
        expect(mine.get(pointer), pointer).toBe(500);
        continue;
      }
      expect(pointer, pointer).toMatch(/\/(description|pattern|example)$|\/examples?\//);
    }
  });

  it.each([
    ['6 fraction digits', () => custom(), 20],
    ['whole credits', () => whole(), 20],
  ])('a custom app with %s gives every decimal-string field an example that matches its own pattern', async (_name, app, count) => {
    const { document } = await servedDocument(app());
    expect(decimalFields(document).length).toBe(count);
    expect(decimalFieldsWithoutTheirExample(document)).toEqual([]);
  });

  it('another custom app documents its own numbers: whole credits, 64 GiB, [0.5, 3], at most 1', async () => {
    const { document } = await servedDocument(whole());
    for (const [schema, name] of CREDIT_FIELDS) {
      expect(field(document, schema, name)['pattern'], `${schema}.${name}`).toBe('^[0-9]+$');
      expect(field(document, schema, name)['description'], `${schema}.${name}`).toMatch(/exactly 0 fraction digits\)$/);
    }
    expect(description(document, 'Consumption', 'model_size_factor')).toBe(
      'max(1, total_model_bytes / 64 GiB): the price of one token (credits per token).',
    );
    expect(description(document, 'WorkerCredit', 'throughput_multiplier')).toBe(
      'measured_service_rate / reference_service_rate, clamped to [0.5, 3] (ratio).',
    );
    expect(property(document, requestBody(document, '/contribution'), 'assignments')['description']).toBe(
      'The workers of the job, at most 1. Answers list them in this order.',
    );
    // Its jobs hold one worker, yet the examples still show what the README's two would earn.
    const asIfTwo = { ...WHOLE, max_assignments: 2 };
    expect(component(document, 'Contribution')['examples']).toEqual([computeContribution(CONTRIBUTION_EXAMPLE, asIfTwo)]);
    expect(component(document, 'RealtimeDelta')['examples']).toEqual([computeRealtimeDelta(REALTIME_DELTA_EXAMPLE, asIfTwo)]);
    expect(component(document, 'Contribution')['examples']).toMatchObject([{ policy_version: 'whole-2', job_credit_budget: '308' }]);
  });

  it('the custom app still documents its own numbers after the other apps were built and served', async () => {
    await Promise.all([servedDocument(whole()), servedDocument(defaultAfter()), servedDocument(defaultBefore())]);
    const { document } = await servedDocument(custom());
    expect(description(document, 'Consumption', 'model_size_factor')).toBe(
      'max(1, total_model_bytes / 16 GiB): the price of one token (credits per token).',
    );
    expect(field(document, 'WorkerCredit', 'credits')['pattern']).toBe('^[0-9]+\\.[0-9]{6}$');
    expect(component(document, 'RealtimeDelta')['examples']).toEqual([computeRealtimeDelta(REALTIME_DELTA_EXAMPLE, CUSTOM)]);
  });

  it.each([
    ['built before the custom apps', () => defaultBefore()],
    ['built between the custom apps', () => defaultAfter()],
  ])('the default app %s serves openapi/openapi.json, byte for byte', async (_when, app) => {
    const { text, document } = await servedDocument(app());
    expect(text === JSON.stringify(committed), 'GET /docs/json differs from openapi/openapi.json').toBe(true);
    expect(`${JSON.stringify(document, null, 2)}\n` === committedText, 'GET /docs/json differs from openapi/openapi.json').toBe(true);
  });

  it('npm run openapi, run now, still writes openapi/openapi.json as committed', async () => {
    expect((await openapiDocument()) === committedText, 'the generator picked up a custom policy').toBe(true);
  });
});

describe('the policy parameters, one table', () => {
  const defaultApp = useApp();
  const custom = useApp({ settings: CUSTOM });

  it.each([
    ['the default app', () => defaultApp(), DEFAULT_POLICY_PARAMETERS],
    ['an app with a custom policy', () => custom(), CUSTOM.parameters],
  ])('%s: GET /policy and the PolicyDocument schema list exactly PARAMETER_NAMES, in order', async (_name, app, parameters) => {
    const response = await app().inject({ method: 'GET', url: '/policy' });
    expect(response.statusCode).toBe(200);
    const served = response.json<{ parameters: Record<string, number> }>().parameters;
    expect(Object.keys(served)).toEqual(PARAMETER_NAMES);
    expect(served).toStrictEqual(Object.fromEntries(PARAMETER_NAMES.map((name) => [name, parameters[name]])));

    const { document } = await servedDocument(app());
    const schema = field(document, 'PolicyDocument', 'parameters');
    expect(Object.keys(schema['properties'] as object)).toEqual(PARAMETER_NAMES);
    expect(schema['required']).toEqual(PARAMETER_NAMES);
    expect(schema['additionalProperties']).toBe(false);
    for (const name of PARAMETER_NAMES) {
      const spec = PARAMETER_SPECS[name];
      expect(property(document, schema, name), name).toMatchObject({ type: 'number', minimum: spec.min, maximum: spec.max });
    }
  });

  it('the names are the seven constants of the model', () => {
    expect(PARAMETER_NAMES).toEqual([
      'model_size_scale_gib',
      'min_execution_time_secs',
      'reference_service_rate_min',
      'throughput_multiplier_min',
      'throughput_multiplier_max',
      'resource_multiplier_base',
      'resource_multiplier_span',
    ]);
  });
});

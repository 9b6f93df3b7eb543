/** The committed OpenAPI document: current, valid, complete, and the one the service serves. */
import SwaggerParser from '@apidevtools/swagger-parser';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { workerCreditsCsv } from '../../src/http/csv.js';
import { openapiDocument } from '../../src/http/openapi-document.js';
import { CONTRIBUTION_EXAMPLE, REALTIME_DELTA_EXAMPLE } from '../../src/http/schemas/examples.js';
import { EXAMPLE_REQUEST_ID } from '../../src/http/schemas/problem-examples.js';
import { computeContribution, computeRealtimeDelta } from '../../src/policy/index.js';
import { parseCreditAmount } from '../../src/policy/credit-units.js';
import { decimalFields, decimalFieldsWithoutTheirExample } from '../support/decimal-fields.js';
import { POST_EXAMPLES, useApp } from '../support/http.js';
import {
  committedDocumentText,
  component,
  operations,
  properties,
  property,
  requestBody,
  servedDocument,
  type OpenApiDocument,
  type Schema,
} from '../support/openapi.js';

const committedText = committedDocumentText();
const committed = JSON.parse(committedText) as OpenApiDocument;

/** JSON Pointers of every property, at any depth, that has no description. */
function propertiesWithoutDescription(schema: unknown, pointer: string): string[] {
  if (schema === null || typeof schema !== 'object') return [];
  const node = schema as Schema;
  const missing: string[] = [];
  for (const [name, property] of Object.entries((node['properties'] ?? {}) as Record<string, Schema>)) {
    const at = `${pointer}/properties/${name}`;
    if (typeof property['description'] !== 'string' || property['description'].trim() === '') missing.push(at);
    missing.push(...propertiesWithoutDescription(property, at));
  }
  if (node['items'] !== undefined) missing.push(...propertiesWithoutDescription(node['items'], `${pointer}/items`));
  for (const combinator of ['anyOf', 'oneOf', 'allOf'] as const) {
    const options = (node[combinator] ?? []) as unknown[];
    options.forEach((option, index) => missing.push(...propertiesWithoutDescription(option, `${pointer}/${combinator}/${index}`)));
  }
  return missing;
}

/** The problem+json media type of a documented response, with its example. */
function problemMedia(path: string, method: string, status: string): { schema: Schema; example: { type: string; status: number } } {
  const media = committed.paths[path]?.[method]?.responses[status]?.content?.['application/problem+json'];
  expect(media, `${method.toUpperCase()} ${path} ${status}`).toBeDefined();
  return media as unknown as { schema: Schema; example: { type: string; status: number } };
}
const U32 = 2 ** 32 - 1;

describe('openapi/openapi.json', () => {
  it('is exactly what the app generates', async () => {
    const generated = await openapiDocument();
    expect(generated === committedText, 'openapi/openapi.json is stale: run npm run openapi and commit the result').toBe(true);
  });

  it('is a valid OpenAPI document', async () => {
    await expect(SwaggerParser.validate(structuredClone(committed) as never)).resolves.toBeDefined();
  });

  it('would fail validation with a dangling reference (the validator is not vacuous)', async () => {
    const broken = structuredClone(committed) as unknown as { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
    broken.paths['/quote']!['post']!.responses['200'] = {
      description: 'x',
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Nope' } } },
    };
    await expect(SwaggerParser.validate(broken as never)).rejects.toThrow(/Nope/);
  });

  it('is OpenAPI 3.1', () => {
    expect(committed.openapi).toMatch(/^3\.1\.\d+$/);
  });

  it('lists every route of the service, and only those', () => {
    expect(operations(committed).map(({ method, path }) => `${method.toUpperCase()} ${path}`).sort()).toEqual([
      'GET /.well-known/jwks.json',
      'GET /healthz',
      'GET /metrics',
      'GET /policy',
      'GET /policy/{version}',
      'GET /readyz',
      'POST /contribution',
      'POST /quote',
      'POST /realtime-delta',
      'POST /realtime-delta/batch',
      'POST /settle',
    ]);
  });

  it('gives every operation a summary', () => {
    for (const { method, path, operation } of operations(committed)) {
      expect(operation.summary?.trim(), `${method} ${path}`).toBeTruthy();
    }
  });

  it('gives every POST request body the README example', () => {
    const posts = operations(committed).filter(({ method }) => method === 'post');
    expect(posts.map(({ path }) => path).sort()).toEqual(Object.keys(POST_EXAMPLES).sort());
    for (const { path, operation } of posts) {
      const content = operation.requestBody?.content['application/json'];
      expect(content?.example, path).toEqual(POST_EXAMPLES[path]);
    }
  });

  it('describes every property of every component schema and request body', () => {
    const missing = [
      ...Object.entries(committed.components.schemas).flatMap(([name, schema]) =>
        propertiesWithoutDescription(schema, `#/components/schemas/${name}`),
      ),
      ...operations(committed).flatMap(({ method, path, operation }) =>
        Object.entries(operation.requestBody?.content ?? {}).flatMap(([mediaType, { schema }]) =>
          propertiesWithoutDescription(schema, `${method.toUpperCase()} ${path} ${mediaType}`),
        ),
      ),
    ];
    expect(missing).toEqual([]);
    // The walk is not vacuous: it finds a description removed deep inside a schema.
    const broken = structuredClone(committed);
    const items = (broken.components.schemas['Contribution']!['properties'] as Record<string, Schema>)['assignments']!;
    expect(items['items']).toEqual({ $ref: '#/components/schemas/WorkerCredit' });
    const workerCredit = broken.components.schemas['WorkerCredit']!['properties'] as Record<string, Schema>;
    delete workerCredit['credits']!['description'];
    expect(propertiesWithoutDescription(broken.components.schemas['WorkerCredit'], '#/components/schemas/WorkerCredit')).toEqual([
      '#/components/schemas/WorkerCredit/properties/credits',
    ]);
  });

  it('lists the 400, 413, 422 and 500 problems of every POST as application/problem+json, each with an example of its own status', () => {
    for (const { path, operation } of operations(committed).filter(({ method }) => method === 'post')) {
      for (const status of ['400', '413', '422', '500']) {
        const response = operation.responses[status];
        expect(response?.description, `${path} ${status}`).toBeTruthy();
        expect(Object.keys(response?.content ?? {}), `${path} ${status}`).toEqual(['application/problem+json']);
        const media = problemMedia(path, 'post', status);
        expect(media.schema, `${path} ${status}`).toEqual({ $ref: '#/components/schemas/Problem' });
        expect(media.example, `${path} ${status}`).toMatchObject({ status: Number(status), request_id: EXAMPLE_REQUEST_ID });
      }
      // Three kinds of problem, three examples: not one example shown for every status.
      const types = ['400', '413', '422', '500'].map((status) => problemMedia(path, 'post', status).example.type);
      expect(new Set(types).size, path).toBe(4);
    }
  });

  it('documents the 204 of /realtime-delta without a body and the 503 of /readyz as a problem', () => {
    const delta = committed.paths['/realtime-delta']?.['post']?.responses['204'];
    expect(delta?.content).toBeUndefined();
    expect(delta?.description).toBeTruthy();
    expect(committed.paths['/readyz']?.['get']?.responses['503']).toEqual({
      description: 'The service is shutting down.',
      content: {
        'application/problem+json': {
          schema: { $ref: '#/components/schemas/Problem' },
          example: {
            type: 'urn:divy:problem:shutting-down',
            title: 'Service Unavailable',
            status: 503,
            detail: 'The service is shutting down; it still serves requests until the listener closes, but takes no new traffic.',
            request_id: EXAMPLE_REQUEST_ID,
          },
        },
      },
    });
  });

  it('has exactly the expected component schemas', () => {
    expect(Object.keys(committed.components.schemas).sort()).toEqual(
      [
        'Consumption',
        'Contribution',
        'Health',
        'JsonWebKeySet',
        'PolicyDocument',
        'PolicyVersion',
        'Posting',
        'Problem',
        'Quote',
        'RealtimeDelta',
        'RealtimeDeltaBatch',
        'Reconciliation',
        'Reservation',
        'Settlement',
        'SigningKey',
        'WorkerAssignment',
        'WorkerCredit',
      ].sort(),
    );
  });

  it('documents the 409 reservation-exceeded problem of /realtime-delta and /settle, and of no other route', () => {
    const withConflict = operations(committed)
      .filter(({ operation }) => operation.responses['409'] !== undefined)
      .map(({ method, path }) => `${method.toUpperCase()} ${path}`);
    expect(withConflict.sort()).toEqual(['POST /realtime-delta', 'POST /settle']);
    for (const [path, field] of [['/realtime-delta', 'frontier_completion_tokens'], ['/settle', 'actual_completion_tokens']] as const) {
      expect(committed.paths[path]?.['post']?.responses['409'], path).toStrictEqual({
        description: 'The job goes past its reservation: `errors` names the count and by how many tokens.',
        content: {
          'application/problem+json': {
            schema: { $ref: '#/components/schemas/Problem' },
            example: {
              type: 'urn:divy:problem:reservation-exceeded',
              title: 'The job goes past its reservation',
              status: 409,
              detail: `${field} goes 44 tokens past reserved_completion_tokens (256); reserve more before burning more.`,
              errors: [{ path: `/${field}`, message: 'must be at most reserved_completion_tokens (256): 44 tokens too many' }],
              request_id: EXAMPLE_REQUEST_ID,
            },
          },
        },
      });
    }
  });

  it('documents GET /policy/{version}: a path parameter, the policy, and a 404 problem for an unknown version', () => {
    const operation = committed.paths['/policy/{version}']?.['get'] as unknown as { parameters: unknown[]; responses: Record<string, Schema> };
    expect(operation.parameters).toStrictEqual([
      { schema: { type: 'string', example: 'divy-credit-1' }, in: 'path', name: 'version', required: true, description: 'A policy version.' },
    ]);
    expect(operation.responses['200']!['content']).toStrictEqual({ 'application/json': { schema: { $ref: '#/components/schemas/PolicyVersion' } } });
    expect(operation.responses['404']).toStrictEqual({
      description: 'No policy has that version; the detail lists the known ones.',
      content: {
        'application/problem+json': {
          schema: { $ref: '#/components/schemas/Problem' },
          example: {
            type: 'urn:divy:problem:not-found',
            title: 'Not Found',
            status: 404,
            detail: 'No policy has version "divy-credit-0"; the known versions are divy-credit-1.',
            request_id: EXAMPLE_REQUEST_ID,
          },
        },
      },
    });
    const version = component(committed, 'PolicyVersion');
    expect(Object.keys(properties(committed, version))).toEqual(['policy_version', 'credit_scale', 'max_assignments', 'parameters', 'current']);
    expect(version['required']).toEqual(['policy_version', 'credit_scale', 'max_assignments', 'parameters', 'current']);
    const listed = property(committed, component(committed, 'PolicyDocument'), 'policies');
    expect(listed['type']).toBe('array');
    expect(Object.keys(properties(committed, listed['items'] as Schema))).toEqual(['policy_version', 'current', 'parameters']);
  });

  it('documents the new request fields of a job\'s life, optional, with their types and ranges', () => {
    const expectFields = (path: string, required: string[], optional: string[]) => {
      const body = requestBody(committed, path);
      expect(Object.keys(properties(committed, body)).sort(), path).toEqual([...required, ...optional].sort());
      expect(body['required'], path).toEqual(required);
      expect(body['additionalProperties'], path).toBe(false);
    };
    expectFields('/quote', ['prompt_tokens', 'requested_completion_tokens', 'total_model_bytes'], ['budget_credits', 'policy_version']);
    expectFields(
      '/settle',
      ['prompt_tokens', 'actual_completion_tokens', 'total_model_bytes'],
      ['reserved_completion_tokens', 'accounted_completion_tokens', 'prompt_credits_accounted', 'total_columns', 'assignments', 'job_id', 'policy_version'],
    );
    expectFields(
      '/realtime-delta',
      ['prompt_tokens', 'frontier_completion_tokens', 'accounted_completion_tokens', 'prompt_credits_accounted', 'total_model_bytes', 'total_columns', 'assignments'],
      ['reserved_completion_tokens', 'job_id', 'policy_version'],
    );
    expectFields('/contribution', ['prompt_tokens', 'completion_tokens', 'total_model_bytes', 'total_columns', 'assignments'], ['policy_version']);

    const field = (path: string, name: string) => property(committed, requestBody(committed, path), name);
    for (const path of ['/settle', '/realtime-delta']) {
      expect(field(path, 'reserved_completion_tokens'), path).toMatchObject({ type: 'integer', minimum: 0, maximum: U32, example: 256 });
      expect(field(path, 'job_id'), path).toMatchObject({ type: 'string', example: 'job-42' });
      expect(field(path, 'job_id')['description'], path).toMatch(/^Names the job, 1 to 128 characters\. /);
    }
    expect(field('/settle', 'accounted_completion_tokens')).toMatchObject({ type: 'integer', minimum: 0, maximum: U32, example: 160 });
    expect(field('/settle', 'prompt_credits_accounted')).toMatchObject({ type: 'boolean', example: true });
    expect(field('/settle', 'total_columns')).toMatchObject({ type: 'integer', minimum: 1, maximum: U32 });
    expect(field('/settle', 'assignments')).toMatchObject({ type: 'array', items: { $ref: '#/components/schemas/WorkerAssignment' } });
    expect(field('/quote', 'budget_credits')).toStrictEqual({
      type: 'string',
      description:
        'What the submitter can spend (credits, a decimal string of up to 24 digits and at most 9 fraction digits). With it the answer also says max_affordable_completion_tokens.',
      pattern: '^[0-9]{1,24}(\\.[0-9]{1,9})?$',
      example: '700',
    });
    for (const path of ['/quote', '/settle', '/contribution', '/realtime-delta']) {
      expect(field(path, 'policy_version'), path).toMatchObject({ type: 'string', example: 'divy-credit-1' });
      expect(field(path, 'policy_version')['description'], path).toMatch(/^The policy to price the job by: divy-credit-1\. Absent means the current one, divy-credit-1\. /);
    }
  });

  it('documents the new answer fields of a job\'s life, present only when asked for', () => {
    const consumption = ['policy_version', 'model_size_factor', 'prompt_credits', 'completion_credits', 'total_credits'];
    const fields = (name: string) => Object.keys(properties(committed, component(committed, name)));
    expect(fields('Quote')).toEqual([...consumption, 'max_affordable_completion_tokens']);
    expect(component(committed, 'Quote')['required']).toEqual(consumption);
    expect(property(committed, component(committed, 'Quote'), 'max_affordable_completion_tokens')).toMatchObject({ type: 'integer', minimum: 0, maximum: U32, example: 222 });
    expect(fields('Settlement')).toEqual([...consumption, 'reconciliation', 'contribution', 'job_id', 'delta_id', 'postings']);
    expect(component(committed, 'Settlement')['required']).toEqual(consumption);
    const delta = ['policy_version', 'prompt_tokens_delta', 'completion_tokens_delta', 'frontier_completion_tokens', 'contribution', 'consumption'];
    expect(fields('RealtimeDelta')).toEqual([...delta, 'reservation', 'job_id', 'delta_id', 'postings']);
    expect(component(committed, 'RealtimeDelta')['required']).toEqual(delta);
    expect(fields('Reservation')).toEqual(['reserved_credits', 'burned_credits', 'remaining_credits']);
    expect(fields('Reconciliation')).toEqual(['reserved_credits', 'streamed_credits', 'final_delta_credits', 'release_credits']);
    expect(fields('Posting')).toEqual(['id', 'kind', 'debit_account', 'credit_account', 'amount']);
    for (const name of ['Reservation', 'Reconciliation', 'Posting']) {
      expect(component(committed, name)['required'], name).toEqual(fields(name));
    }
    expect(committed.paths['/quote']?.['post']?.responses['200']?.content).toStrictEqual({ 'application/json': { schema: { $ref: '#/components/schemas/Quote' } } });
    expect(committed.paths['/settle']?.['post']?.responses['200']?.content).toStrictEqual({
      'application/json': { schema: { $ref: '#/components/schemas/Settlement' } },
    });
  });

  it('describes the 200 answer of every POST in its own words', () => {
    const described = Object.fromEntries(
      operations(committed)
        .filter(({ method }) => method === 'post')
        .map(({ path, operation }) => [path, operation.responses['200']?.description]),
    );
    expect(described).toStrictEqual({
      '/quote': 'The credits to reserve, and what a budget affords.',
      '/settle': 'The credits the job consumed and, with its reservation, what to burn and release.',
      '/contribution': "The job's credits, split among its workers.",
      '/realtime-delta': 'The credits to burn for the new tokens, and what each worker earns of them.',
      '/realtime-delta/batch': 'The answer to each update of the batch, in order.',
    });
  });

});

describe('what Swagger UI shows', () => {
  it('has no "Default Response": every response of every operation says what it is', () => {
    expect(committedText).not.toContain('Default Response');
    for (const { method, path, operation } of operations(committed)) {
      for (const [status, response] of Object.entries(operation.responses)) {
        expect(response.description.trim(), `${method} ${path} ${status}`).not.toBe('');
        expect(response.description, `${method} ${path} ${status}`).not.toBe('Default Response');
      }
    }
  });

  it('describes the 200 body of every GET endpoint', () => {
    const gets = operations(committed).filter(({ method }) => method === 'get');
    expect(gets.map(({ path }) => path).sort()).toEqual(['/.well-known/jwks.json', '/healthz', '/metrics', '/policy', '/policy/{version}', '/readyz']);
    for (const { path, operation } of gets) {
      const ok = operation.responses['200'];
      expect(ok?.description, path).toMatch(/^[A-Z].+\.$/);
      const content = Object.values(ok?.content ?? {});
      expect(content.length, path).toBe(1);
      expect(content[0]!.schema, path).toBeDefined();
    }
    const health = (path: string) => committed.paths[path]?.['get']?.responses['200']?.content?.['application/json'] as unknown;
    expect(health('/healthz')).toStrictEqual({ schema: { $ref: '#/components/schemas/Health' }, example: { status: 'ok' } });
    expect(health('/readyz')).toStrictEqual({ schema: { $ref: '#/components/schemas/Health' }, example: { status: 'ready' } });
  });

  it('gives every documented problem an example of its own status and type', () => {
    let problems = 0;
    for (const { method, path, operation } of operations(committed)) {
      for (const [status, response] of Object.entries(operation.responses)) {
        const media = response.content?.['application/problem+json'];
        if (Number(status) < 400) {
          expect(media, `${method} ${path} ${status}`).toBeUndefined();
          continue;
        }
        problems++;
        const example = (media as { example?: { type?: string; status?: number; request_id?: string } } | undefined)?.example;
        expect(example?.status, `${method} ${path} ${status}`).toBe(Number(status));
        expect(example?.type, `${method} ${path} ${status}`).toMatch(/^(urn:divy:problem:[a-z-]+|about:blank)$/);
        expect(example?.request_id, `${method} ${path} ${status}`).toBe(EXAMPLE_REQUEST_ID);
      }
    }
    // 5 POST routes x (400, 413, 422, 500), two 409s, two 404s, one 503.
    expect(problems).toBe(25);
  });

  it('gives every decimal-string field an example that matches its own pattern', () => {
    const fields = decimalFields(committed);
    // The 19 credit amounts of the answers, and budget_credits of POST /quote.
    expect(fields.length).toBe(20);
    expect(decimalFieldsWithoutTheirExample(committed)).toEqual([]);
    expect(fields.map(({ example }) => example)).toContain('700');
    // The walk is not vacuous: a dropped example and a regex-made one are both found.
    const broken = structuredClone(committed);
    const credits = (broken.components.schemas['WorkerCredit']!['properties'] as Record<string, Schema>)['credits']!;
    credits['example'] = '12.5';
    const budget = property(broken, requestBody(broken, '/quote'), 'budget_credits');
    delete budget['example'];
    expect(decimalFieldsWithoutTheirExample(broken).sort()).toEqual([
      '/components/schemas/WorkerCredit/properties/credits',
      '/paths/~1quote/post/requestBody/content/application~1json/schema/properties/budget_credits',
    ]);
  });

  it('documents the budget_credits pattern as the policy reads amounts', () => {
    const pattern = new RegExp(property(committed, requestBody(committed, '/quote'), 'budget_credits')['pattern'] as string);
    const digits = (min: number, max: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max });
    const amount = fc.oneof(
      fc.tuple(digits(0, 26), fc.constantFrom('', '.'), digits(0, 11)).map(([whole, point, fraction]) => `${whole}${point}${fraction}`),
      fc.string({ maxLength: 12 }),
    );
    fc.assert(
      fc.property(amount, (text) => {
        expect(pattern.test(text), text).toBe(parseCreditAmount(text, 9) !== undefined);
      }),
      { numRuns: 2000 },
    );
  });

  it('answers /contribution and /realtime-delta as JSON or CSV, JSON first, and every other POST as JSON only', () => {
    const mediaTypes = Object.fromEntries(
      operations(committed)
        .filter(({ method }) => method === 'post')
        .map(({ path, operation }) => [path, Object.keys(operation.responses['200']?.content ?? {})]),
    );
    expect(mediaTypes).toStrictEqual({
      '/quote': ['application/json'],
      '/settle': ['application/json'],
      '/contribution': ['application/json', 'text/csv; charset=utf-8'],
      '/realtime-delta': ['application/json', 'text/csv; charset=utf-8'],
      '/realtime-delta/batch': ['application/json'],
    });
    const csv = (path: string) => committed.paths[path]?.['post']?.responses['200']?.content?.['text/csv; charset=utf-8'] as unknown as { schema: Schema; example: string };
    expect(csv('/contribution').example).toBe(workerCreditsCsv(computeContribution(CONTRIBUTION_EXAMPLE).assignments));
    expect(csv('/realtime-delta').example).toBe(workerCreditsCsv(computeRealtimeDelta(REALTIME_DELTA_EXAMPLE)!.contribution.assignments));
    for (const path of ['/contribution', '/realtime-delta']) {
      expect(csv(path).schema['type'], path).toBe('string');
      expect(csv(path).schema['description'], path).toMatch(/^With Accept: text\/csv preferred: one record per worker/);
      expect(committed.paths[path]?.['post']?.responses['200']?.content?.['application/json']?.schema, path).toStrictEqual({
        $ref: `#/components/schemas/${path === '/contribution' ? 'Contribution' : 'RealtimeDelta'}`,
      });
    }
  });

  it('links the operator console from the description Swagger UI shows at the top', () => {
    const { description } = (committed as unknown as { info: { description: string } }).info;
    expect(description).toContain('[operator console](/console)');
    // One markdown link, to the service's own page.
    expect([...description.matchAll(/\]\(([^)]*)\)/g)].map((match) => match[1])).toEqual(['/console']);
  });
});

describe('the document the default app serves', () => {
  const app = useApp();

  it('is openapi/openapi.json, byte for byte once indented as the file is', async () => {
    const { text, document } = await servedDocument(app());
    expect(document).toEqual(committed);
    expect(text).toBe(JSON.stringify(committed));
    expect(`${JSON.stringify(document, null, 2)}\n` === committedText).toBe(true);
  });
});

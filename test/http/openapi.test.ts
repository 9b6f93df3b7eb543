/** The committed OpenAPI document: current, valid, complete, and the one the service serves. */
import SwaggerParser from '@apidevtools/swagger-parser';
import { describe, expect, it } from 'vitest';
import { openapiDocument } from '../../src/http/openapi-document.js';
import {
  CONTRIBUTION_EXAMPLE,
  QUOTE_EXAMPLE,
  REALTIME_DELTA_BATCH_EXAMPLE,
  REALTIME_DELTA_EXAMPLE,
  SETTLE_EXAMPLE,
} from '../../src/http/schemas/examples.js';
import { useApp } from '../support/http.js';
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

const POST_EXAMPLES: Record<string, unknown> = {
  '/quote': QUOTE_EXAMPLE,
  '/settle': SETTLE_EXAMPLE,
  '/contribution': CONTRIBUTION_EXAMPLE,
  '/realtime-delta': REALTIME_DELTA_EXAMPLE,
  '/realtime-delta/batch': REALTIME_DELTA_BATCH_EXAMPLE,
};

const PROBLEM_CONTENT = { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } };
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

  it('lists the 400, 413, 422 and 500 problems of every POST as application/problem+json', () => {
    for (const { path, operation } of operations(committed).filter(({ method }) => method === 'post')) {
      for (const status of ['400', '413', '422', '500']) {
        const response = operation.responses[status];
        expect(response?.description, `${path} ${status}`).toBeTruthy();
        expect(response?.content, `${path} ${status}`).toEqual({
          'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } },
        });
      }
    }
  });

  it('documents the 204 of /realtime-delta without a body and the 503 of /readyz as a problem', () => {
    const delta = committed.paths['/realtime-delta']?.['post']?.responses['204'];
    expect(delta?.content).toBeUndefined();
    expect(delta?.description).toBeTruthy();
    expect(committed.paths['/readyz']?.['get']?.responses['503']).toEqual({
      description: 'The service is shutting down.',
      content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
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
    for (const path of ['/realtime-delta', '/settle']) {
      expect(committed.paths[path]?.['post']?.responses['409'], path).toStrictEqual({
        description: 'The job goes past its reservation: `errors` names the count and by how many tokens.',
        content: PROBLEM_CONTENT,
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
      content: PROBLEM_CONTENT,
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

describe('the document the default app serves', () => {
  const app = useApp();

  it('is openapi/openapi.json, byte for byte once indented as the file is', async () => {
    const { text, document } = await servedDocument(app());
    expect(document).toEqual(committed);
    expect(text).toBe(JSON.stringify(committed));
    expect(`${JSON.stringify(document, null, 2)}\n` === committedText).toBe(true);
  });
});

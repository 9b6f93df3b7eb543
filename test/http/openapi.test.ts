/** The committed OpenAPI document: current, valid, complete, and the one the service serves. */
import SwaggerParser from '@apidevtools/swagger-parser';
import { describe, expect, it } from 'vitest';
import { openapiDocument } from '../../src/http/openapi-document.js';
import { CONTRIBUTION_EXAMPLE, QUOTE_EXAMPLE, REALTIME_DELTA_EXAMPLE, SETTLE_EXAMPLE } from '../../src/http/schemas/examples.js';
import { useApp } from '../support/http.js';
import { committedDocumentText, operations, servedDocument, type OpenApiDocument, type Schema } from '../support/openapi.js';

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
};

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
      'GET /healthz',
      'GET /policy',
      'GET /readyz',
      'POST /contribution',
      'POST /quote',
      'POST /realtime-delta',
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
    expect(posts).toHaveLength(4);
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
      ['Consumption', 'Contribution', 'Health', 'PolicyDocument', 'Problem', 'RealtimeDelta', 'WorkerAssignment', 'WorkerCredit'].sort(),
    );
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

/** The committed OpenAPI document: current, valid, complete, and the one the service serves. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import SwaggerParser from '@apidevtools/swagger-parser';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { openapiDocument } from '../../src/http/openapi-document.js';
import { CONTRIBUTION_EXAMPLE, QUOTE_EXAMPLE, REALTIME_DELTA_EXAMPLE, SETTLE_EXAMPLE } from '../../src/http/schemas/examples.js';

const DOCUMENT_PATH = fileURLToPath(new URL('../../openapi/openapi.json', import.meta.url));
const committedText = readFileSync(DOCUMENT_PATH, 'utf8');

type Schema = Record<string, unknown>;

interface Operation {
  readonly summary?: string;
  readonly requestBody?: { readonly content: Record<string, { readonly schema: Schema; readonly example?: unknown }> };
  readonly responses: Record<string, { readonly description: string; readonly content?: Record<string, { readonly schema: Schema }> }>;
}

interface OpenApiDocument {
  readonly openapi: string;
  readonly paths: Record<string, Record<string, Operation>>;
  readonly components: { readonly schemas: Record<string, Schema> };
}

const committed = JSON.parse(committedText) as OpenApiDocument;

function operations(document: OpenApiDocument): { method: string; path: string; operation: Operation }[] {
  return Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({ method, path, operation })),
  );
}

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

/**
 * Known gap in src (reported, not fixed here): the nested `parameters` object of PolicyDocument
 * has no description. Remove this entry once src/http/schemas/service.ts describes it.
 */
const KNOWN_UNDESCRIBED = new Set<string>();

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
    expect(missing.filter((pointer) => !KNOWN_UNDESCRIBED.has(pointer))).toEqual([]);
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

  it('is what GET /docs/json serves', async () => {
    const app = await buildApp();
    try {
      const response = await app.inject({ method: 'GET', url: '/docs/json' });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(response.json()).toEqual(committed);
    } finally {
      await app.close();
    }
  });
});

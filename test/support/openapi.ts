/** Reading OpenAPI documents in the HTTP tests: the committed one, and the one an app serves. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';

export type Schema = Record<string, unknown>;

export interface Operation {
  readonly summary?: string;
  readonly requestBody?: { readonly content: Record<string, { readonly schema: Schema; readonly example?: unknown }> };
  readonly responses: Record<string, { readonly description: string; readonly content?: Record<string, { readonly schema: Schema }> }>;
}

export interface OpenApiDocument {
  readonly openapi: string;
  readonly paths: Record<string, Record<string, Operation>>;
  readonly components: { readonly schemas: Record<string, Schema> };
}

export const COMMITTED_DOCUMENT_PATH = fileURLToPath(new URL('../../openapi/openapi.json', import.meta.url));

/** openapi/openapi.json as committed, byte for byte. */
export function committedDocumentText(): string {
  return readFileSync(COMMITTED_DOCUMENT_PATH, 'utf8');
}

/** GET /docs/json of `app`: the body as sent and as parsed. */
export async function servedDocument(app: FastifyInstance): Promise<{ text: string; document: OpenApiDocument }> {
  const response = await app.inject({ method: 'GET', url: '/docs/json' });
  expect(response.statusCode).toBe(200);
  expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
  return { text: response.body, document: response.json<OpenApiDocument>() };
}

export function operations(document: OpenApiDocument): { method: string; path: string; operation: Operation }[] {
  return Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({ method, path, operation })),
  );
}

const REF_PREFIX = '#/components/schemas/';

/** The schema itself, or the component it references. */
export function resolve(document: OpenApiDocument, schema: Schema): Schema {
  const ref = schema['$ref'];
  if (typeof ref !== 'string') return schema;
  expect(ref.startsWith(REF_PREFIX), ref).toBe(true);
  const target = document.components.schemas[ref.slice(REF_PREFIX.length)];
  expect(target, ref).toBeDefined();
  return target!;
}

/** A named component schema. */
export function component(document: OpenApiDocument, name: string): Schema {
  const schema = document.components.schemas[name];
  expect(schema, name).toBeDefined();
  return schema!;
}

/** The properties of an object schema (after following a reference). */
export function properties(document: OpenApiDocument, schema: Schema): Record<string, Schema> {
  const resolved = resolve(document, schema);
  expect(resolved['type']).toBe('object');
  return resolved['properties'] as Record<string, Schema>;
}

/** One property of an object schema (after following references on both). */
export function property(document: OpenApiDocument, schema: Schema, name: string): Schema {
  const found = properties(document, schema)[name];
  expect(found, name).toBeDefined();
  return resolve(document, found!);
}

/** The JSON request body schema of `POST path`. */
export function requestBody(document: OpenApiDocument, path: string): Schema {
  const schema = document.paths[path]?.['post']?.requestBody?.content['application/json']?.schema;
  expect(schema, `POST ${path} request body`).toBeDefined();
  return resolve(document, schema!);
}

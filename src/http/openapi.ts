import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import { accessOf } from './auth.js';
import { createJsonSchemaTransform, createJsonSchemaTransformObject } from 'fastify-type-provider-zod';
import type { SchemaDocs } from './schemas/docs.js';

export const DOCS_PREFIX = '/docs';

interface OpenApiShape {
  readonly paths?: unknown;
  readonly components?: { readonly schemas?: Record<string, unknown> };
}

const SCHEMA_REF_PREFIX = '#/components/schemas/';

/**
 * The zod transform emits every registered schema twice, as input (`NameInput`) and as output
 * (`Name`). Keep only the ones the paths use, each under its plain name.
 */
function tidySchemaComponents<Document extends object>(document: Document): Document {
  const shape = document as OpenApiShape;
  const schemas = shape.components?.schemas ?? {};
  const used = referencedSchemas(shape, schemas);
  let text = JSON.stringify({ ...document, components: { ...shape.components, schemas: pick(schemas, used) } });
  for (const name of used) {
    const plain = name.replace(/Input$/, '');
    if (plain !== name && !used.has(plain)) {
      text = text.replaceAll(`"${SCHEMA_REF_PREFIX}${name}"`, `"${SCHEMA_REF_PREFIX}${plain}"`).replace(`"${name}":`, `"${plain}":`);
    }
  }
  return JSON.parse(text) as Document;
}

/** The schema names reachable from the paths, following references through components. */
function referencedSchemas(document: OpenApiShape, schemas: Record<string, unknown>): Set<string> {
  const used = new Set<string>();
  const pending: unknown[] = [document.paths];
  while (pending.length > 0) {
    const text = JSON.stringify(pending.pop());
    for (const match of text.matchAll(/"#\/components\/schemas\/([^"]+)"/g)) {
      const name = match[1]!;
      if (!used.has(name)) {
        used.add(name);
        pending.push(schemas[name]);
      }
    }
  }
  return used;
}

function pick<T>(record: Record<string, T>, keys: Set<string>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).filter(([key]) => keys.has(key)));
}

const problemResponse = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: { $ref: `${SCHEMA_REF_PREFIX}Problem` } } },
});

const AUTH_RESPONSES = {
  401: problemResponse('No bearer token, or one the service does not know (urn:divy:problem:unauthorized).'),
  403: problemResponse('The token\'s role may not call this route (urn:divy:problem:forbidden).'),
};

/**
 * With auth on: the bearer scheme, required by every operation but the open ones (which say so
 * with an empty `security`), so Swagger UI's Authorize button sends the token.
 */
function withBearerAuth<Document extends object>(document: Document): Document {
  const shape = document as OpenApiShape & { paths?: Record<string, Record<string, { responses?: Record<string, unknown> }>> };
  const paths = Object.fromEntries(
    Object.entries(shape.paths ?? {}).map(([path, operations]) => {
      // OpenAPI writes `/policy/{version}`; Fastify declares `/policy/:version`.
      const open = accessOf(path.replace(/\{([^}]+)\}/g, ':$1')) === 'open';
      const secured = (operation: { responses?: Record<string, unknown> }) =>
        open ? { ...operation, security: [] } : { ...operation, responses: { ...operation.responses, ...AUTH_RESPONSES } };
      return [path, Object.fromEntries(Object.entries(operations).map(([method, operation]) => [method, secured(operation)]))];
    }),
  );
  return {
    ...document,
    paths,
    components: {
      ...shape.components,
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'A token from AUTH_TOKENS; its role (coordinator, wallet, operator) decides which endpoints it may call.' },
      },
    },
    security: [{ bearer: [] }],
  };
}

/** The document of one app, whose schemas are documented in its own registry. */
export function openapiOptions(docs: SchemaDocs, { bearer_auth = false }: { readonly bearer_auth?: boolean } = {}): FastifyDynamicSwaggerOptions {
  const transformObject = createJsonSchemaTransformObject({ schemaRegistry: docs });
  return {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Divy credit accounting',
        version: '0.1.0',
        description:
          'Prices the work of distributed inference jobs in credits. Reserve with /quote, stream with /realtime-delta, settle with /settle. Money is exact: decimal strings, payouts sum exactly to the burn, deltas sum exactly to the settlement. The service is stateless: callers pass the counters already accounted.',
      },
      tags: [
        { name: 'accounting', description: 'Pricing and splitting credits.' },
        { name: 'operations', description: 'Policy introspection, health and metrics.' },
      ],
    },
    transform: createJsonSchemaTransform({ schemaRegistry: docs }),
    transformObject: (input) => {
      const document = tidySchemaComponents(transformObject(input));
      return bearer_auth ? withBearerAuth(document) : document;
    },
  };
}

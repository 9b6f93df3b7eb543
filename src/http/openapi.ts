import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger';
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

/** The document of one app, whose schemas are documented in its own registry. */
export function openapiOptions(docs: SchemaDocs): FastifyDynamicSwaggerOptions {
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
        { name: 'operations', description: 'Policy introspection and health.' },
      ],
    },
    transform: createJsonSchemaTransform({ schemaRegistry: docs }),
    transformObject: (input) => tidySchemaComponents(transformObject(input)),
  };
}

import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import { accessOf, forbiddenProblem, ROLES, unauthorizedProblem } from './auth.js';
import { createJsonSchemaTransform, createJsonSchemaTransformObject } from 'fastify-type-provider-zod';
import type { SchemaDocs } from './schemas/docs.js';
import { NEVER_SHED } from './load-shedding.js';
import { PRESSURE_NAMES } from './loop-pressure.js';
import { overloadedProblem, rateLimitedProblem } from './problem.js';
import { exampleProblem } from './schemas/problem-examples.js';

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

const problemResponse = (description: string, example: unknown) => ({
  description,
  content: { 'application/problem+json': { schema: { $ref: `${SCHEMA_REF_PREFIX}Problem` }, example } },
});

/** What the auth hook (src/http/auth.ts) answers a request without a token. */
const UNAUTHORIZED_EXAMPLE = exampleProblem(unauthorizedProblem(true));

/** The 401 and 403 of an operation; the 403 example is what a token of a role the route refuses gets. */
function authResponses(method: string, route: string) {
  const access = accessOf(route);
  const refused = ROLES.find((role) => access !== undefined && access !== 'open' && !access.includes(role)) ?? ROLES[0];
  return {
    401: problemResponse('No bearer token, or one the service does not know (urn:divy:problem:unauthorized).', UNAUTHORIZED_EXAMPLE),
    403: problemResponse(
      'The token\'s role may not call this route (urn:divy:problem:forbidden).',
      exampleProblem(forbiddenProblem(refused, method.toUpperCase(), route)),
    ),
  };
}

type Operation = { responses?: Record<string, unknown> };
type Paths = Record<string, Record<string, Operation>>;

/** Each operation of each path with `respond(route, method, operation)` added to its responses, as Fastify declares its route. */
function withResponses<Document extends object>(document: Document, respond: (route: string, method: string) => Record<string, unknown>): Document {
  return mapOperations(document, (route, method, operation) => ({ ...operation, responses: { ...operation.responses, ...respond(route, method) } }));
}

/** Each operation of each path replaced by `change(route, method, operation)`, the route as Fastify declares it. */
function mapOperations<Document extends object>(document: Document, change: (route: string, method: string, operation: Operation) => Operation): Document {
  const shape = document as OpenApiShape & { paths?: Paths };
  const paths = Object.fromEntries(
    Object.entries(shape.paths ?? {}).map(([path, operations]) => {
      // OpenAPI writes `/policy/{version}`; Fastify declares `/policy/:version`.
      const route = path.replace(/\{([^}]+)\}/g, ':$1');
      return [path, Object.fromEntries(Object.entries(operations).map(([method, operation]) => [method, change(route, method, operation)]))];
    }),
  );
  return { ...document, paths };
}

/** With load shedding on: the 503 every route but the probes and /metrics may answer. */
function sheddingResponses(retry_after_s: number) {
  const example = exampleProblem(overloadedProblem(PRESSURE_NAMES.eventLoopDelay, retry_after_s));
  const response = problemResponse(`The replica is shedding load (urn:divy:problem:overloaded); retry after Retry-After seconds, or on another replica.`, example);
  return (route: string) => (NEVER_SHED.has(route) ? {} : { 503: response });
}

/** With a rate limit: the 429 every route but the open ones may answer once a caller is over it. */
function rateLimitResponses(per_minute: number) {
  const response = problemResponse(
    `More than ${per_minute} requests in a minute from one token (urn:divy:problem:rate-limited); with Retry-After.`,
    exampleProblem(rateLimitedProblem(per_minute, 60)),
  );
  return (route: string) => (accessOf(route) === 'open' ? {} : { 429: response });
}

/**
 * With auth on: the bearer scheme, required by every operation but the open ones (which say so
 * with an empty `security`), so Swagger UI's Authorize button sends the token.
 */
function withBearerAuth<Document extends object>(document: Document): Document {
  const shape = document as OpenApiShape;
  const secured = mapOperations(document, (route, method, operation) =>
    accessOf(route) === 'open' ? { ...operation, security: [] } : { ...operation, responses: { ...operation.responses, ...authResponses(method, route) } },
  );
  return {
    ...secured,
    components: {
      ...shape.components,
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'A token from AUTH_TOKENS; its role (coordinator, wallet, operator) decides which endpoints it may call.' },
      },
    },
    security: [{ bearer: [] }],
  };
}

type SchemaTransform = ReturnType<typeof createJsonSchemaTransform>;
type DeclaredContent = Record<string, { readonly example?: unknown }>;
type TransformedResponses = Record<string, { content?: Record<string, Record<string, unknown>> }>;

/**
 * zod's transform keeps only the schema of each media type of a response; the example a route
 * declares beside it (a problem the service really answers, a CSV body) is kept as well, so
 * Swagger UI shows it instead of one made up from the schema.
 */
function keepingMediaExamples(transform: SchemaTransform): SchemaTransform {
  return (input) => {
    const output = transform(input);
    const declared = (input.schema as { response?: Record<string, { content?: DeclaredContent }> } | undefined)?.response ?? {};
    const responses = (output.schema as { response?: TransformedResponses } | undefined)?.response ?? {};
    for (const [status, response] of Object.entries(declared)) {
      for (const [mediaType, { example }] of Object.entries(response.content ?? {})) {
        const media = responses[status]?.content?.[mediaType];
        if (example !== undefined && media !== undefined) media['example'] = example;
      }
    }
    return output;
  };
}

/** Refusals a deployment's settings add to every route they cover. */
export interface DocumentedRefusals {
  readonly bearer_auth?: boolean;
  /** Retry-After of a shed request, when load shedding is on. */
  readonly shedding_retry_after_s?: number | undefined;
  readonly rate_limit_per_min?: number | undefined;
}

/** The document of one app, whose schemas are documented in its own registry. */
export function openapiOptions(docs: SchemaDocs, refusals: DocumentedRefusals = {}): FastifyDynamicSwaggerOptions {
  const { bearer_auth = false, shedding_retry_after_s, rate_limit_per_min } = refusals;
  const transformObject = createJsonSchemaTransformObject({ schemaRegistry: docs });
  return {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Divy credit accounting',
        version: '0.1.0',
        description:
          'Prices the work of distributed inference jobs in credits. Reserve with /quote, stream with /realtime-delta, settle with /settle. Money is exact: decimal strings, payouts sum exactly to the burn, deltas sum exactly to the settlement. The service is stateless: callers pass the counters already accounted.\n\nOperators can also use the [operator console](/console), a page of this service that sends /realtime-delta and /contribution requests and shows their answers worker by worker.',
      },
      tags: [
        { name: 'accounting', description: 'Pricing and splitting credits.' },
        { name: 'operations', description: 'Policy introspection, health and metrics.' },
      ],
    },
    transform: keepingMediaExamples(createJsonSchemaTransform({ schemaRegistry: docs })),
    transformObject: (input) => {
      let document = tidySchemaComponents(transformObject(input));
      if (shedding_retry_after_s !== undefined) document = withResponses(document, sheddingResponses(shedding_retry_after_s));
      if (rate_limit_per_min !== undefined) document = withResponses(document, rateLimitResponses(rate_limit_per_min));
      return bearer_auth ? withBearerAuth(document) : document;
    },
  };
}

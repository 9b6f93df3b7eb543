/**
 * Fastify's validator compiler for the app's zod schemas. zod is the one source of every schema,
 * and it alone says what is wrong with a request. A request that is right is recognised first by
 * ajv, compiled from the JSON Schema zod derives from the same schema, because zod's walk over an
 * 8-worker delta cost about 6 us of a 90 us request (BENCHMARKS.md). A request ajv does not accept
 * goes to zod, which accepts it or names what is wrong: ajv can only send a request the longer way.
 *
 * ajv stands in for zod only where accepting means the same to both and zod would hand the request
 * on unchanged: schemas that check JSON types and shapes (as every request schema here does: the
 * ranges are the policy's rules), with no default, transform or unknown key that zod would strip.
 * test/http/request-validation.test.ts checks the two agree on every request schema of the app.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import type { FastifySchemaCompiler } from 'fastify';
import { validatorCompiler } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PolicyInputError } from '../policy/index.js';

/**
 * ajv's checks of an app's request schemas, each compiled once: the route validators and the
 * readers of batches and pooled bodies (src/http/route-answers.ts) are given the same schema
 * objects, and compiling one costs milliseconds at start-up.
 */
export class RequestChecks {
  readonly #ajv = new Ajv({ strict: true });
  /** null where ajv cannot stand in for zod. */
  readonly #compiled = new WeakMap<z.ZodType, ValidateFunction | null>();

  /** unchangedAcceptanceCheck of `schema`, compiled on first use. */
  acceptanceOf(schema: z.ZodType): ValidateFunction | undefined {
    let check = this.#compiled.get(schema);
    if (check === undefined) this.#compiled.set(schema, (check = unchangedAcceptanceCheck(this.#ajv, schema) ?? null));
    return check ?? undefined;
  }
}

/** A check of a body before its schema reads it (the size of its lists): throws a PolicyInputError to refuse it. */
export type BodyRefusal = (body: unknown) => void;

/**
 * With `refuse`, a body is refused by it before its schema is read, and its error is the
 * request's. In the validator rather than a preValidation hook: a hook stage costs every request
 * of its route its runner's closures and calls (BENCHMARKS.md: the three stages taken off a
 * delta were about 1 kB of garbage and 2 us of CPU a request).
 */
export function requestValidatorCompiler(checks: RequestChecks = new RequestChecks(), refuse?: BodyRefusal): FastifySchemaCompiler<z.ZodType> {
  return (route) => {
    const validate = schemaValidator(checks, route);
    return refuse === undefined || route.httpPart !== 'body' ? validate : refusingFirst(refuse, validate);
  };
}

type SchemaValidator = ReturnType<FastifySchemaCompiler<z.ZodType>>;

function schemaValidator(checks: RequestChecks, route: Parameters<FastifySchemaCompiler<z.ZodType>>[0]): SchemaValidator {
  const byZod = validatorCompiler(route);
  const accepts = checks.acceptanceOf(route.schema);
  if (accepts === undefined) return byZod;
  return (data) => (accepts(data) ? { value: data } : byZod(data));
}

function refusingFirst(refuse: BodyRefusal, validate: SchemaValidator): SchemaValidator {
  return (data) => {
    try {
      refuse(data);
    } catch (error) {
      // Fastify would mark any error returned here a 400; anything but the refusal is a bug, and
      // a validator that throws has Fastify answer it as one (a 500 that hides it).
      if (!(error instanceof PolicyInputError)) throw error;
      return { error };
    }
    return validate(data);
  };
}

/** A request body read as zod's safeParse reads it. */
export type RequestReader<Request> = (body: unknown) => z.ZodSafeParseResult<Request>;

/**
 * `schema.safeParse`, with a body that ajv accepts returned as it is, as zod would return it:
 * what a batch's updates and the offload pool's bodies are read with, so that they are read as
 * the routes' own validator reads a request.
 */
export function requestReader<Request>(checks: RequestChecks, schema: z.ZodType<Request>): RequestReader<Request> {
  const accepts = checks.acceptanceOf(schema);
  if (accepts === undefined) return (body) => schema.safeParse(body);
  return (body) => (accepts(body) ? { success: true, data: body as Request } : schema.safeParse(body));
}

/**
 * ajv's check of `schema`, where a value it accepts is one zod accepts and returns as it is; else
 * undefined. Exported for the test that checks the two agree.
 */
export function unchangedAcceptanceCheck(ajv: Ajv, schema: z.ZodType): ValidateFunction | undefined {
  if (!returnsInputUnchanged(schema)) return undefined;
  try {
    return ajv.compile(z.toJSONSchema(schema, { target: 'draft-7', io: 'input', unrepresentable: 'throw' }));
  } catch {
    return undefined;
  }
}

/** What returnsInputUnchanged reads of a zod schema's definition. */
interface SchemaDefinition {
  readonly type: string;
  readonly checks?: readonly unknown[];
  readonly innerType?: z.ZodType;
  readonly element?: z.ZodType;
  readonly shape?: Readonly<Record<string, z.ZodType>>;
  readonly catchall?: z.ZodType;
}

/**
 * Whether the JSON Schema zod derives from `schema` says all that zod checks, and zod returns what
 * it accepts as it is: JSON types, strict objects, arrays, optional keys, literals and enums, with no
 * check of their own (a refinement, a range, an integer), default, transform, or unknown key that
 * zod would strip. The JSON Schema cannot tell: it leaves refinements and transforms out.
 */
function returnsInputUnchanged(schema: z.ZodType): boolean {
  const definition = schema._zod.def as SchemaDefinition;
  if ((definition.checks?.length ?? 0) > 0) return false;
  switch (definition.type) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'null':
    case 'unknown':
    case 'literal':
    case 'enum':
      return true;
    case 'optional':
      return returnsInputUnchanged(definition.innerType!);
    case 'array':
      return returnsInputUnchanged(definition.element!);
    case 'object':
      return definition.catchall?._zod.def.type === 'never' && Object.values(definition.shape!).every(returnsInputUnchanged);
    default:
      return false;
  }
}

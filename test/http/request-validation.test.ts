/**
 * The request validator: ajv's check, compiled from the JSON Schema of a zod schema, accepts exactly
 * what zod accepts, and what it accepts zod would return unchanged; everything else goes to zod.
 */
import { Ajv } from 'ajv';
import fc from 'fast-check';
import Fastify, { type FastifySchemaCompiler } from 'fastify';
import { validatorCompiler } from 'fastify-type-provider-zod';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { handleError, PROBLEM_TYPES } from '../../src/http/problem.js';
import { RequestChecks, requestReader, requestValidatorCompiler, unchangedAcceptanceCheck } from '../../src/http/request-validation.js';
import { apiSchemas } from '../../src/http/schemas/api.js';
import { PolicyInputError } from '../../src/policy/index.js';
import { CONTRIBUTION_EXAMPLE, QUOTE_EXAMPLE, REALTIME_DELTA_BATCH_EXAMPLE, REALTIME_DELTA_EXAMPLE, SETTLE_EXAMPLE } from '../../src/http/schemas/examples.js';

const schemas = apiSchemas();

/** Every request body schema of the app's routes, with a body it accepts. */
const REQUEST_BODIES: ReadonlyArray<readonly [string, z.ZodType, unknown]> = [
  ['POST /quote', schemas.consumption.quoteRequest, QUOTE_EXAMPLE],
  ['POST /settle', schemas.settlement.settleRequest, SETTLE_EXAMPLE],
  ['POST /contribution', schemas.contribution.contributionRequest, CONTRIBUTION_EXAMPLE],
  ['POST /realtime-delta', schemas.realtimeDelta.realtimeDeltaRequest, REALTIME_DELTA_EXAMPLE],
  ['POST /realtime-delta/batch', schemas.realtimeDeltaBatch.realtimeDeltaBatchRequest, REALTIME_DELTA_BATCH_EXAMPLE],
];

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The paths to every value inside `value`, the root included. */
function pathsOf(value: unknown, path: readonly (string | number)[] = []): (readonly (string | number)[])[] {
  const inner =
    value !== null && typeof value === 'object'
      ? Object.entries(value).flatMap(([key, child]) => pathsOf(child, [...path, Array.isArray(value) ? Number(key) : key]))
      : [];
  return [path, ...inner];
}

/** A copy of `value` with what is at `path` replaced by `replacement`, or removed when it is undefined. */
function changedAt(value: unknown, path: readonly (string | number)[], replacement: Json | undefined): unknown {
  if (path.length === 0) return replacement;
  const copy = structuredClone(value) as Record<string | number, unknown>;
  let parent = copy;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  const last = path.at(-1)!;
  if (replacement === undefined && !Array.isArray(parent)) delete parent[last];
  // An own property, as JSON.parse makes one: assigning a key "__proto__" would set the prototype instead.
  else Object.defineProperty(parent, last, { value: replacement, enumerable: true, writable: true, configurable: true });
  return copy;
}

/** Bodies near a good one: a value replaced or removed, a key added, anywhere; and any JSON at all. */
function bodiesNear(good: unknown): fc.Arbitrary<unknown> {
  const paths = pathsOf(good);
  const mutated = fc.tuple(fc.constantFrom(...paths), fc.option(fc.jsonValue() as fc.Arbitrary<Json>, { nil: undefined })).map(([path, replacement]) => changedAt(good, path, replacement));
  const objectPaths = paths.filter((path) => {
    const value = path.reduce<unknown>((node, key) => (node as Record<string | number, unknown>)[key], good);
    return value !== null && typeof value === 'object' && !Array.isArray(value);
  });
  const extraKey = fc.tuple(fc.constantFrom(...objectPaths), fc.string({ maxLength: 12 }), fc.jsonValue() as fc.Arbitrary<Json>).map(([path, key, extra]) => changedAt(good, [...path, key], extra));
  return fc.oneof(fc.constant(good), mutated, extraKey, fc.jsonValue());
}

describe('the request validator', () => {
  const ajv = new Ajv({ strict: true });

  it.each(REQUEST_BODIES)('checks %s with ajv, accepting exactly what zod accepts, and as zod returns it', (_route, schema, good) => {
    const accepts = unchangedAcceptanceCheck(ajv, schema);
    expect(accepts).toBeTypeOf('function');
    fc.assert(
      fc.property(bodiesNear(good), (body) => {
        const byZod = schema.safeParse(body);
        expect(accepts!(body)).toBe(byZod.success);
        if (byZod.success) expect(byZod.data).toStrictEqual(body);
      }),
      { numRuns: 2000 },
    );
  });

  it.each(REQUEST_BODIES)('reads a body of %s for a batch or the offload pool exactly as zod reads it', (_route, schema, good) => {
    const read = requestReader(new RequestChecks(), schema);
    // ajv recognised it: zod would have returned a copy.
    expect(read(good).data).toBe(good);
    fc.assert(
      fc.property(bodiesNear(good), (body) => {
        const byZod = schema.safeParse(body);
        const byReader = read(body);
        expect(byReader.success).toBe(byZod.success);
        if (byZod.success) expect(byZod.data).toStrictEqual(byReader.data);
        else expect(byReader.error!.issues).toStrictEqual(byZod.error.issues);
      }),
      { numRuns: 500 },
    );
  });

  it('reads with zod alone a schema ajv cannot stand in for', () => {
    const schema = z.strictObject({ count: z.number().int() });
    const read = requestReader(new RequestChecks(), schema);
    expect(read({ count: 2 })).toStrictEqual(schema.safeParse({ count: 2 }));
    expect(read({ count: 2.5 }).error!.issues).toStrictEqual(schema.safeParse({ count: 2.5 }).error!.issues);
  });

  it('compiles a schema once for the validator and the readers, and remembers one ajv cannot check', () => {
    const checks = new RequestChecks();
    const schema = schemas.realtimeDelta.realtimeDeltaRequest;
    const check = checks.acceptanceOf(schema);
    expect(check).toBeTypeOf('function');
    expect(checks.acceptanceOf(schema)).toBe(check);
    const zodOnly = z.strictObject({ count: z.number().int() });
    expect(checks.acceptanceOf(zodOnly)).toBeUndefined();
    expect(checks.acceptanceOf(zodOnly)).toBeUndefined();
  });

  it('leaves to zod alone a schema whose answer is not the value it was given', () => {
    expect(unchangedAcceptanceCheck(ajv, z.object({ version: z.string() }))).toBeUndefined();
    expect(unchangedAcceptanceCheck(ajv, z.strictObject({ count: z.number().default(1) }))).toBeUndefined();
    expect(unchangedAcceptanceCheck(ajv, z.strictObject({ count: z.string().transform(Number) }))).toBeUndefined();
    expect(unchangedAcceptanceCheck(ajv, z.strictObject({ count: z.number().int() }))).toBeUndefined();
    expect(unchangedAcceptanceCheck(ajv, z.strictObject({ tags: z.record(z.string(), z.number()) }))).toBeUndefined();
    expect(unchangedAcceptanceCheck(ajv, z.strictObject({ id: z.string().refine((id) => id.length > 2) }))).toBeUndefined();
    expect(unchangedAcceptanceCheck(ajv, z.strictObject({ ids: z.array(z.string().max(3)).optional() }))).toBeUndefined();
  });

  it('answers a wrong body with zod\'s own error, and a right one with the body itself', () => {
    const schema = schemas.consumption.quoteRequest;
    const validate = requestValidatorCompiler()({ schema, method: 'POST', url: '/quote', httpPart: 'body' });
    const body = structuredClone(QUOTE_EXAMPLE);
    expect(validate(body)).toStrictEqual({ value: body });
    const wrong = { ...body, prompt_tokens: 'many' };
    const byZodAlone = validatorCompiler({ schema, method: 'POST', url: '/quote', httpPart: 'body' });
    expect(validate(wrong)).toStrictEqual(byZodAlone(wrong));
    expect((validate(wrong) as { error: unknown[] }).error).toHaveLength(1);
  });

  describe('with a refusal run first', () => {
    const refusal = new PolicyInputError([{ path: '/assignments', message: 'must hold at most 2 assignments' }]);

    async function answerWith(refuse: (body: unknown) => void) {
      const app = Fastify();
      app.setErrorHandler(handleError);
      app.post('/quote', { schema: { body: schemas.consumption.quoteRequest }, validatorCompiler: requestValidatorCompiler(new RequestChecks(), refuse) as FastifySchemaCompiler<unknown> }, () => ({ answered: true }));
      try {
        return await app.inject({ method: 'POST', url: '/quote', payload: QUOTE_EXAMPLE });
      } finally {
        await app.close();
      }
    }

    it('answers its refusal as the policy error it is, before the schema reads the body', async () => {
      const validate = requestValidatorCompiler(new RequestChecks(), () => {
        throw refusal;
      })({ schema: schemas.consumption.quoteRequest, method: 'POST', url: '/quote', httpPart: 'body' });
      expect(validate({ not: 'a quote' })).toStrictEqual({ error: refusal });
      const response = await answerWith(() => {
        throw refusal;
      });
      expect(response.statusCode).toBe(422);
      expect(response.json()).toMatchObject({ type: PROBLEM_TYPES.ruleViolation, errors: [{ path: '/assignments', message: 'must hold at most 2 assignments' }] });
    });

    it('answers any other error it throws as a bug: a 500 that names nothing of it', async () => {
      const response = await answerWith(() => {
        throw new TypeError('secret internals');
      });
      expect(response.statusCode).toBe(500);
      expect(response.json()).toMatchObject({ type: PROBLEM_TYPES.generic, status: 500 });
      expect(response.body).not.toContain('secret internals');
    });

    it('lets a body it does not refuse through to the schema', async () => {
      const response = await answerWith(() => undefined);
      expect(response.statusCode).toBe(200);
      expect(response.json()).toStrictEqual({ answered: true });
    });
  });
});

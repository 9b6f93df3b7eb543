/**
 * What one request costs a caller, whole and by stage.
 *
 * The whole request goes through the app as a caller's would: `app.inject()` with a JSON string
 * body, up to the response's body as a string. The stages are the steps the app takes on the
 * way, each timed alone over the same bodies:
 *
 * - JSON parse: `JSON.parse` of the body (Fastify's parser adds a scan for `__proto__` and
 *   `constructor` keys on top, which falls under "other");
 * - validation: `safeParse` of the parsed body by the app's own request schema;
 * - policy: the policy call on the validated body, as the route makes it;
 * - serialization: JSON.stringify of the route's answer, as the app writes it.
 *
 * "Other" is the whole request minus the four stages: Fastify's routing, hooks, body reading
 * and reply, inject's request and response, the body's bytes on the way in and out, and the
 * garbage collection the stages cause together. The four stages are also timed chained in one call, outside Fastify, as a check
 * on timing them apart. Where "other" goes is shown by the profile (profile.ts).
 */
import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import { watchCpu } from './machine.js';
import { measureSideBySide } from './measure.js';

export interface RouteUnderTest<Schema extends z.ZodType> {
  readonly url: string;
  /** The app's request schema for the route. */
  readonly schema: Schema;
  /** The policy call the route makes on the validated body. */
  readonly policy: (input: z.output<Schema>) => object | null;
  /** How the app writes the route's answer. */
  readonly write: (answer: unknown) => string;
}

/** Microseconds per request, averaged over the bodies taken in turn. */
export interface RequestFigure {
  readonly request_bytes: number;
  readonly response_bytes: number;
  readonly whole_us: number;
  readonly parse_us: number;
  readonly validation_us: number;
  readonly policy_us: number;
  readonly serialization_us: number;
  /** whole_us minus the four stages. */
  readonly other_us: number;
  /** The four stages chained in one call, outside Fastify. */
  readonly chained_us: number;
  /** CPU that other processes took while these figures were measured, in cores; null off Linux. */
  readonly others_cpu: number | null;
}

export async function benchRequest<Schema extends z.ZodType>(
  app: FastifyInstance,
  route: RouteUnderTest<Schema>,
  inputs: readonly unknown[],
): Promise<RequestFigure> {
  const { url, schema, policy, write } = route;
  const bodies = inputs.map((input) => JSON.stringify(input));
  const parsed = bodies.map((body) => JSON.parse(body) as unknown);
  const validated = parsed.map((body) => validate(schema, body));
  const results = validated.map((body) => policy(body) ?? fail(`${url}: the policy found nothing to account`));
  const serialized = results.map((result) => write(result));

  // The stages must be the request's own: the app answers each body with exactly this text.
  for (const [turn, body] of bodies.entries()) {
    const response = await post(app, url, body);
    if (response.statusCode !== 200) fail(`${url} answered ${response.statusCode}: ${response.payload.slice(0, 500)}`);
    if (response.payload !== serialized[turn]) fail(`${url} answered other than the stages compute`);
  }

  const cycle = bodies.length;
  let turn = 0;
  const next = (): number => (turn = turn + 1 === cycle ? 0 : turn + 1);

  const watch = watchCpu();
  // Side by side, so that a slow spell of the machine falls on the whole and its stages alike.
  const [whole_us, chained_us, parse_us, validation_us, policy_us, serialization_us] = (
    await measureSideBySide(
      [
        { async: async () => (await post(app, url, bodies[next()]!)).payload },
        { sync: () => write(policy(validate(schema, JSON.parse(bodies[next()]!)))) },
        { sync: () => JSON.parse(bodies[next()]!) },
        { sync: () => schema.safeParse(parsed[next()]) },
        { sync: () => policy(validated[next()]!) },
        { sync: () => write(results[next()]!) },
      ],
      cycle,
    )
  ).map((seconds) => seconds * 1e6) as [number, number, number, number, number, number];
  return {
    request_bytes: meanLength(bodies),
    response_bytes: meanLength(serialized),
    whole_us,
    parse_us,
    validation_us,
    policy_us,
    serialization_us,
    other_us: whole_us - parse_us - validation_us - policy_us - serialization_us,
    chained_us,
    others_cpu: watch.othersShare(),
  };
}

function post(app: FastifyInstance, url: string, payload: string) {
  return app.inject({ method: 'POST', url, payload, headers: { 'content-type': 'application/json' } });
}

function validate<Schema extends z.ZodType>(schema: Schema, body: unknown): z.output<Schema> {
  const result = schema.safeParse(body);
  if (!result.success) fail(`the request schema refused a benchmark body: ${result.error.message.slice(0, 500)}`);
  return result.data;
}

function meanLength(texts: readonly string[]): number {
  return texts.reduce((sum, text) => sum + Buffer.byteLength(text), 0) / texts.length;
}

function fail(message: string): never {
  throw new Error(message);
}

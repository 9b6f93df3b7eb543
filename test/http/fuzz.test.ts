/**
 * Fuzzes every POST endpoint through app.inject with arbitrary JSON, mutated example bodies and
 * raw bytes. Whatever arrives: no 5xx; every 4xx a problem document whose errors name JSON
 * Pointers; every 200 finite, its credit amounts well formed, and its money conserved.
 *
 * FUZZ_RUNS sets the total number of cases (20000 by default, split across the endpoints;
 * `npm run fuzz` runs a million), FUZZ_SEED the seed. fast-check prints the seed and the
 * shrunk body of a failure.
 */
import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { CONTRIBUTION_EXAMPLE, QUOTE_EXAMPLE, REALTIME_DELTA_EXAMPLE, SETTLE_EXAMPLE } from '../../src/http/schemas/examples.js';
import { creditPattern, creditUnits, sumCreditUnits } from '../support/credits.js';
import { creditAmounts, PROBLEM_CONTENT_TYPE, useApp } from '../support/http.js';

const TOTAL_RUNS = Number(process.env.FUZZ_RUNS ?? 20_000);
const SEED = Number(process.env.FUZZ_SEED ?? 20_260_519);
const SCALE = 9;

const ENDPOINTS = {
  '/quote': QUOTE_EXAMPLE,
  '/settle': SETTLE_EXAMPLE,
  '/contribution': CONTRIBUTION_EXAMPLE,
  '/realtime-delta': REALTIME_DELTA_EXAMPLE,
  '/realtime-delta/batch': { updates: [REALTIME_DELTA_EXAMPLE, { ...REALTIME_DELTA_EXAMPLE, accounted_completion_tokens: 32 }] },
} as const;
type Endpoint = keyof typeof ENDPOINTS;
/** A batch case costs about two single ones: the batch gets a tenth of the runs, the others the rest. */
function runsFor(endpoint: Endpoint): number {
  return endpoint === '/realtime-delta/batch' ? Math.ceil(TOTAL_RUNS / 10) : Math.ceil((TOTAL_RUNS * 9) / 10 / 4);
}

// ---- bodies ------------------------------------------------------------------------------------

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const extremeNumber = fc.constantFrom<number>(0, -0, 1, -1, 0.5, 1.5, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2, 1e308, -1e308, 5e-324, 1e-7, -(2 ** 31), 4096, 8192);
const nasty = fc.oneof(
  extremeNumber,
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer({ min: -10, max: 10_000 }),
  fc.constantFrom<Json>('', '0', '1e3', '700', '0.000000001', '1.0000000001', '-1', 'NaN', '\u0000', '\ud83d\ude00', 'é', '\u202e', 'x'.repeat(300), true, false, null, [], {}),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom(300, 4000).map((length) => 'é'.repeat(length)),
  fc.constantFrom(64, 400).map((depth) => nest(depth)),
  fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
);

function nest(depth: number): Json {
  let value: Json = 1;
  for (let level = 0; level < depth; level += 1) value = level % 2 === 0 ? [value] : { a: value };
  return value;
}

/** Every place in a body that a mutation can hit: the root, then each member and element. */
function pathsOf(value: Json, path: (string | number)[] = []): (string | number)[][] {
  const here = [path];
  // Deep enough for every field of the examples; a nested value planted earlier is one target.
  if (path.length >= 4) return here;
  if (Array.isArray(value)) return here.concat(...value.map((item, index) => pathsOf(item, [...path, index])));
  if (value !== null && typeof value === 'object') return here.concat(...Object.entries(value).map(([key, item]) => pathsOf(item, [...path, key])));
  return here;
}

type Mutation =
  | { op: 'drop' | 'duplicate' | 'wrap-array' | 'to-string'; at: number }
  | { op: 'set'; at: number; value: Json }
  | { op: 'rename'; at: number; name: string }
  | { op: 'add'; at: number; name: string; value: Json };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constantFrom('drop', 'duplicate', 'wrap-array', 'to-string'), at: fc.nat() }),
  fc.record({ op: fc.constant('set'), at: fc.nat(), value: nasty }),
  fc.record({ op: fc.constant('set'), at: fc.nat(), value: extremeNumber }),
  fc.record({ op: fc.constant('rename'), at: fc.nat(), name: fc.constantFrom('__proto__', 'constructor', 'prompt', 'job_id', 'worker_id', '', '\ud800') }),
  fc.record({ op: fc.constant('add'), at: fc.nat(), name: fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('__proto__', 'constructor', 'policy_version')), value: nasty }),
) as fc.Arbitrary<Mutation>;

/** Applies mutations to a copy of `base`, and serializes it, duplicate keys written in the text. */
function mutate(base: unknown, mutations: readonly Mutation[]): string {
  let root = structuredClone(base) as Json;
  const duplicates: string[] = [];
  for (const change of mutations) {
    const paths = pathsOf(root);
    const path = paths[change.at % paths.length]!;
    const key = path.at(-1);
    let parent: Json = root;
    for (const step of path.slice(0, -1)) parent = (parent as Record<string, Json>)[step]!;
    const current: Json = key === undefined ? root : (parent as Record<string, Json>)[key]!;
    const replace = (value: Json | undefined): void => {
      if (key === undefined) root = value ?? {};
      else if (value === undefined && Array.isArray(parent)) parent.splice(key as number, 1);
      else if (value === undefined) delete (parent as Record<string, Json>)[key];
      else (parent as Record<string | number, Json>)[key] = value;
    };
    switch (change.op) {
      case 'drop':
        replace(undefined);
        break;
      case 'duplicate':
        if (typeof key === 'string') duplicates.push(`${JSON.stringify(key)}:${JSON.stringify(current)}`);
        else if (Array.isArray(parent) && typeof key === 'number') parent.push(structuredClone(current));
        break;
      case 'wrap-array':
        replace([current]);
        break;
      case 'to-string':
        replace(typeof current === 'string' ? Number(current) : JSON.stringify(current));
        break;
      case 'set':
        replace(change.value);
        break;
      case 'rename':
        if (typeof key === 'string' && !Array.isArray(parent)) {
          replace(undefined);
          Object.defineProperty(parent, change.name, { value: current, enumerable: true, configurable: true, writable: true });
        }
        break;
      case 'add':
        if (current !== null && typeof current === 'object' && !Array.isArray(current)) {
          Object.defineProperty(current, change.name, { value: change.value, enumerable: true, configurable: true, writable: true });
        }
        break;
    }
  }
  const text = JSON.stringify(root) ?? 'null';
  // A duplicate key goes at the front of the root object, where JSON.parse lets the later one win.
  if (duplicates.length > 0 && text.startsWith('{')) return `{${duplicates.join(',')}${text.length > 2 ? ',' : ''}${text.slice(1)}`;
  return text;
}

interface Case {
  readonly payload: string | Buffer;
  readonly contentType: string;
}

function bodies(endpoint: Endpoint): fc.Arbitrary<Case> {
  const base = ENDPOINTS[endpoint];
  const json = (payload: string): Case => ({ payload, contentType: 'application/json' });
  // The batch also takes mutated single deltas as its updates.
  const mutatedUpdates =
    endpoint === '/realtime-delta/batch'
      ? [fc.array(fc.array(mutation, { maxLength: 3 }), { maxLength: 3 }).map((lists) => json(`{"updates":[${lists.map((list) => mutate(REALTIME_DELTA_EXAMPLE, list)).join(',')}]}`))]
      : [];
  return fc.oneof(
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((value) => json(JSON.stringify(value) ?? 'null')) },
    { weight: 6, arbitrary: fc.array(mutation, { minLength: 1, maxLength: 4 }).map((list) => json(mutate(base, list))) },
    ...mutatedUpdates.map((arbitrary) => ({ weight: 4, arbitrary })),
    { weight: 1, arbitrary: fc.constant(json(JSON.stringify(base))) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((bytes) => json(Buffer.from(bytes) as unknown as string)) },
    {
      weight: 1,
      arbitrary: fc.record({
        payload: fc.string({ unit: 'binary', maxLength: 100 }),
        contentType: fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'application/problem+json'),
      }),
    },
  );
}

// ---- invariants --------------------------------------------------------------------------------

const JSON_POINTER = /^(\/([^~/]|~[01])*)*$/;
/** Problems that point at the fields they are about. */
const POINTING_TYPES = new Set([
  'urn:divy:problem:invalid-request',
  'urn:divy:problem:policy-rule-violation',
  'urn:divy:problem:forbidden-key',
  'urn:divy:problem:reservation-exceeded',
]);
/** What each 4xx problem type was seen with, for the report below. */
const seen = new Map<string, number>();

function expectProblemBody(body: Record<string, unknown>, status: number, requestId: string | undefined): void {
  expect(body.status).toBe(status);
  for (const field of ['type', 'title', 'detail', 'request_id'] as const) expect(typeof body[field], field).toBe('string');
  expect(body.request_id).toBe(requestId);
  if (POINTING_TYPES.has(body.type as string)) expect(Array.isArray(body.errors), `${body.type as string} lists its errors`).toBe(true);
  if (body.errors !== undefined) {
    const errors = body.errors as { path: unknown; message: unknown }[];
    expect(errors.length).toBeGreaterThan(0);
    for (const error of errors) {
      expect(error.path).toMatch(JSON_POINTER);
      expect(typeof error.message === 'string' && error.message.length > 0).toBe(true);
    }
  }
  const key = `${status} ${body.type as string}`;
  seen.set(key, (seen.get(key) ?? 0) + 1);
}

function expectFinite(value: unknown, path = ''): void {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) expect.fail(`${path} is ${value}`);
  } else if (value === null) {
    expect.fail(`${path} is null`);
  } else if (typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) expectFinite(item, `${path}/${key}`);
  }
}

interface Split {
  job_credit_budget: string;
  assignments: { credits: string }[];
}
interface Posting {
  kind: string;
  amount: string;
}

function units(amount: string): bigint {
  return creditUnits(amount, SCALE);
}

function expectSplit(split: Split, budget: string): void {
  expect(split.job_credit_budget).toBe(budget);
  expect(sumCreditUnits(split.assignments.map((worker) => worker.credits))).toBe(units(budget));
}

function expectPayouts(postings: Posting[] | undefined, burn: string): void {
  if (postings === undefined) return;
  const payouts = postings.filter((posting) => posting.kind === 'payout').map((posting) => posting.amount);
  expect(sumCreditUnits(payouts)).toBe(units(burn));
}

function expectConsumption(body: { prompt_credits: string; completion_credits: string; total_credits: string }): void {
  expect(units(body.prompt_credits) + units(body.completion_credits)).toBe(units(body.total_credits));
}

/** Conservation of one accounted realtime delta (alone or in a batch). */
function expectDelta(delta: Record<string, unknown>): void {
  const consumption = delta.consumption as { prompt_credits: string; completion_credits: string; total_credits: string };
  expectConsumption(consumption);
  expectSplit(delta.contribution as Split, consumption.total_credits);
  const reservation = delta.reservation as { reserved_credits: string; burned_credits: string; remaining_credits: string } | undefined;
  if (reservation !== undefined) expect(units(reservation.burned_credits) + units(reservation.remaining_credits)).toBe(units(reservation.reserved_credits));
  expectPayouts(delta.postings as Posting[] | undefined, consumption.total_credits);
}

function expectConserved(endpoint: Endpoint, body: Record<string, unknown>): void {
  switch (endpoint) {
    case '/quote':
      expectConsumption(body as never);
      break;
    case '/contribution':
      expectSplit(body as never, body.job_credit_budget as string);
      break;
    case '/realtime-delta':
      expectDelta(body);
      break;
    case '/settle': {
      expectConsumption(body as never);
      const total = units(body.total_credits as string);
      const reconciliation = body.reconciliation as Record<string, string> | undefined;
      let finalDelta = body.total_credits as string;
      if (reconciliation !== undefined) {
        finalDelta = reconciliation.final_delta_credits!;
        expect(units(reconciliation.streamed_credits!) + units(finalDelta)).toBe(total);
        expect(total + units(reconciliation.release_credits!)).toBe(units(reconciliation.reserved_credits!));
        const releases = ((body.postings ?? []) as Posting[]).filter((posting) => posting.kind === 'release').map((posting) => posting.amount);
        if (body.postings !== undefined) expect(sumCreditUnits(releases)).toBe(units(reconciliation.release_credits!));
      }
      if (body.contribution !== undefined) expectSplit(body.contribution as Split, finalDelta);
      expectPayouts(body.postings as Posting[] | undefined, body.contribution === undefined ? '0.000000000' : finalDelta);
      break;
    }
    case '/realtime-delta/batch':
      for (const result of body.results as Record<string, unknown>[]) {
        const status = result.status as number;
        if (status === 200) expectDelta(result.delta as Record<string, unknown>);
        else if (status !== 204) {
          expect(status >= 400 && status < 500, `update status ${status}`).toBe(true);
          expectProblemBody(result.problem as Record<string, unknown>, status, body.request_id as string | undefined);
        }
      }
      break;
  }
}

function expectSound(endpoint: Endpoint, response: LightMyRequestResponse, batchRequestId: string): void {
  const status = response.statusCode;
  if (status >= 500) expect.fail(`${status}: ${response.body.slice(0, 2000)}`);
  if (status === 204) return;
  if (status >= 400) {
    expect(response.headers['content-type']).toBe(PROBLEM_CONTENT_TYPE);
    expectProblemBody(response.json(), status, response.headers['x-request-id'] as string);
    return;
  }
  expect(status).toBe(200);
  const body = response.json<Record<string, unknown>>();
  expectFinite(body);
  for (const { path, value } of creditAmounts(body)) {
    if (typeof value !== 'string' || !creditPattern(SCALE).test(value)) expect.fail(`${path} is not a credit amount: ${JSON.stringify(value)}`);
  }
  expectConserved(endpoint, endpoint === '/realtime-delta/batch' ? { ...body, request_id: batchRequestId } : body);
}

// ---- the runs ----------------------------------------------------------------------------------

describe('fuzzing every POST endpoint', () => {
  const app = useApp();
  let cases = 0;
  const statuses = new Map<string, number>();
  const started = Date.now();

  afterAll(() => {
    if (process.env.FUZZ_RUNS !== undefined) {
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      console.log(`fuzz: ${cases} cases in ${seconds} s (FUZZ_SEED=${SEED}); statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
      console.log(`fuzz: problems ${JSON.stringify(Object.fromEntries(seen))}`);
    }
  });

  for (const endpoint of Object.keys(ENDPOINTS) as Endpoint[]) {
    const RUNS_PER_ENDPOINT = runsFor(endpoint);
    it(
      `${endpoint}: no 5xx, problems point at fields, 200s conserve credits (${RUNS_PER_ENDPOINT} cases)`,
      async () => {
        let ran = 0;
        const requestId = `fuzz-${endpoint.slice(1).replace('/', '-')}`;
        await fc.assert(
          fc.asyncProperty(bodies(endpoint), async ({ payload, contentType }) => {
            ran += 1;
            const response = await app().inject({
              method: 'POST',
              url: endpoint,
              payload,
              headers: { 'content-type': contentType, 'x-request-id': requestId },
            });
            const key = `${endpoint} ${response.statusCode}`;
            statuses.set(key, (statuses.get(key) ?? 0) + 1);
            expectSound(endpoint, response, requestId);
          }),
          { numRuns: RUNS_PER_ENDPOINT, seed: SEED, endOnFailure: false },
        );
        cases += ran;
        expect(ran).toBe(RUNS_PER_ENDPOINT);
        // The fuzz reaches the arithmetic, not only the schema.
        expect(statuses.get(`${endpoint} 200`) ?? 0).toBeGreaterThan(0);
      },
      Math.max(30_000, RUNS_PER_ENDPOINT * 10),
    );
  }
});

/**
 * The compiled writers of the accounting answers (src/http/answer-writers.ts) write exactly the
 * text JSON.stringify writes: for random valid requests of every route (many workers, odd ids,
 * optional fields present and absent, batches of every kind of result), through the app and
 * through the offload task, and for answers a compiled writer could get wrong.
 */
import fc from 'fast-check';
import Fastify from 'fastify';
import { describe, expect, it, vi } from 'vitest';
import type { z } from 'zod';
import { answerSerializerCompiler, compileAnswerWriters, type AnswerWriter } from '../../src/http/answer-writers.js';
import { jsonTextParserOf } from '../../src/http/json-body.js';
import { answerTask, offloadedAnswerers } from '../../src/http/offload/answer-task.js';
import { answerRealtimeDeltaBatch } from '../../src/http/realtime-delta-batch.js';
import { answerBody, contributionAnswerer, realtimeDeltaAnswerer, settlementAnswerer, type BodyAnswerer } from '../../src/http/route-answers.js';
import { apiSchemas } from '../../src/http/schemas/api.js';
import { REALTIME_DELTA_EXAMPLE, SETTLE_EXAMPLE } from '../../src/http/schemas/examples.js';
import { catalogOfOne, computeRealtimeDelta, DEFAULT_POLICY_SETTINGS, priceByVersion, quoteConsumption, type Quote, type RealtimeDelta } from '../../src/policy/index.js';
import { batchUpdates, contributionRequests, quoteRequests, realtimeDeltaRequests, settleRequests, type WorkerCount } from '../support/accounting-requests.js';
import { ID_HEADER, postJson, REQUEST_ID, useApp } from '../support/http.js';

const catalog = catalogOfOne(DEFAULT_POLICY_SETTINGS);
const schemas = apiSchemas(catalog);
const writers = compileAnswerWriters(schemas);

/** What a route answers for a body, by its own answerer: the answer, or null for a 204. */
type Answering = (body: unknown) => object | null;

function answeredBy<Request, Answer extends object>(answerer: BodyAnswerer<Request, Answer>): Answering {
  return (body) => {
    const outcome = answerBody(body, answerer, REQUEST_ID);
    if ('problem' in outcome) throw new Error(`a valid request was refused: ${JSON.stringify(outcome.problem)}`);
    return 'answer' in outcome ? outcome.answer : null;
  };
}

/** As the route prices a quote: no list to limit, its request schema, the policy of its version. */
const quoteAnswerer: BodyAnswerer<z.output<typeof schemas.consumption.quoteRequest>, Quote> = {
  refuseOversized: () => undefined,
  request: schemas.consumption.quoteRequest,
  price: (body) => priceByVersion(catalog, body.policy_version, (settings) => quoteConsumption(body, settings)),
};

const batchAnswer: Answering = (body) => ({
  results: answerRealtimeDeltaBatch((body as { updates: unknown[] }).updates, {
    catalog,
    request: schemas.realtimeDelta.realtimeDeltaRequest,
    max_updates: schemas.realtimeDeltaBatch.max_updates,
    request_id: REQUEST_ID,
  }),
});

interface RouteCase {
  readonly write: AnswerWriter;
  readonly answer: Answering;
  readonly requests: (workers?: WorkerCount) => fc.Arbitrary<object>;
  /** The answer's fields a request may leave out. */
  readonly optional: readonly string[];
}

type Route = '/quote' | '/settle' | '/contribution' | '/realtime-delta' | '/realtime-delta/batch';

const ROUTES: Readonly<Record<Route, RouteCase>> = {
  '/quote': { write: writers.quote, answer: answeredBy(quoteAnswerer), requests: () => quoteRequests, optional: ['max_affordable_completion_tokens'] },
  '/settle': {
    write: writers.settlement,
    answer: answeredBy(settlementAnswerer(catalog, schemas)),
    requests: (workers) => settleRequests(workers),
    optional: ['reconciliation', 'contribution', 'job_id', 'delta_id', 'postings'],
  },
  '/contribution': { write: writers.contribution, answer: answeredBy(contributionAnswerer(catalog, schemas)), requests: (workers) => contributionRequests(workers), optional: [] },
  '/realtime-delta': {
    write: writers.realtimeDelta,
    answer: answeredBy(realtimeDeltaAnswerer(catalog, schemas.realtimeDelta.realtimeDeltaRequest)),
    requests: (workers) => realtimeDeltaRequests(workers),
    optional: ['reservation', 'job_id', 'delta_id', 'postings'],
  },
  '/realtime-delta/batch': { write: writers.realtimeDeltaBatch, answer: batchAnswer, requests: () => batchUpdates().map((updates) => ({ updates })), optional: [] },
};

/** Which optional fields the answers carried, and which they left out. */
function fieldTally(optional: readonly string[]) {
  const present = new Set<string>();
  const absent = new Set<string>();
  return {
    add(answer: object): void {
      for (const field of optional) (field in answer ? present : absent).add(field);
    },
    expectBothWays(): void {
      expect([...present].sort()).toEqual([...optional].sort());
      expect([...absent].sort()).toEqual([...optional].sort());
    },
  };
}

describe('each writer writes what JSON.stringify writes', () => {
  it.each(Object.keys(ROUTES) as Route[])('for random valid requests of %s', (route) => {
    const { write, answer, requests, optional } = ROUTES[route];
    const tally = fieldTally(optional);
    let answered = 0;
    fc.assert(
      fc.property(requests(), (request) => {
        const result = answer(request);
        if (result === null) return;
        answered += 1;
        tally.add(result);
        expect(write(result)).toBe(JSON.stringify(result));
      }),
      { numRuns: 300 },
    );
    expect(answered).toBeGreaterThan(200);
    tally.expectBothWays();
  });

  it.each(['/contribution', '/realtime-delta', '/settle'] as const)('for %s with 200 to 1200 workers, whose lists of 256 or more JSON.stringify writes', (route) => {
    const { write, answer, requests } = ROUTES[route];
    let workers = 0;
    fc.assert(
      fc.property(requests({ minAssignments: 200, maxAssignments: 1200 }), (request) => {
        const result = answer(request);
        if (result === null) return;
        workers = Math.max(workers, JSON.stringify(result).split('"worker_id"').length - 1);
        expect(write(result)).toBe(JSON.stringify(result));
      }),
      { numRuns: 6 },
    );
    expect(workers).toBeGreaterThanOrEqual(200);
  });

  it('for a delta of as many workers as the policy allows', () => {
    const { max_assignments } = DEFAULT_POLICY_SETTINGS;
    const [request] = fc.sample(realtimeDeltaRequests({ minAssignments: max_assignments, maxAssignments: max_assignments }), { numRuns: 1, seed: 20_260_101 });
    // The prompt still to burn: never a 204.
    const delta = ROUTES['/realtime-delta'].answer({ ...request, prompt_tokens: 512, prompt_credits_accounted: false }) as RealtimeDelta;
    expect(delta.contribution.assignments).toHaveLength(max_assignments);
    expect(writers.realtimeDelta(delta)).toBe(JSON.stringify(delta));
  });

  it('for batches mixing 200, 204 and refused updates, short ones and ones JSON.stringify writes whole', () => {
    const statuses = new Set<number>();
    fc.assert(
      fc.property(batchUpdates({ maxUpdates: 40 }), (updates) => {
        const answer = batchAnswer({ updates }) as { results: { status: number }[] };
        for (const result of answer.results) statuses.add(result.status);
        expect(writers.realtimeDeltaBatch(answer)).toBe(JSON.stringify(answer));
      }),
      { numRuns: 200 },
    );
    expect([...statuses].sort()).toEqual([200, 204, 400, 409, 422]);
  });
});

describe('answers a compiled writer could get wrong', () => {
  const delta = computeRealtimeDelta(REALTIME_DELTA_EXAMPLE, DEFAULT_POLICY_SETTINGS)!;
  const worker = delta.contribution.assignments[0]!;
  const withWorker = (changes: object) => ({ ...delta, contribution: { ...delta.contribution, assignments: [{ ...worker, ...changes }] } });

  it.each([
    ['NaN, written as null', withWorker({ compute_share: Number.NaN }), '"compute_share":null'],
    ['Infinity, written as null', withWorker({ memory_pressure: -Infinity }), '"memory_pressure":null'],
    ['-0, written as 0', withWorker({ memory_pressure: -0 }), '"memory_pressure":0}'],
    ['an exponent', withWorker({ measured_service_rate: 1e21, reference_service_rate: 5e-324 }), '"measured_service_rate":1e+21,"reference_service_rate":5e-324'],
    ['a required field left undefined, left out', withWorker({ credits: undefined }), '{"worker_id":"fast-metal","compute_share"'],
    ['an optional field left undefined, left out', { ...delta, reservation: undefined, job_id: undefined }, '"consumption":{'],
  ])('%s, as JSON.stringify writes it', (_name, answer, excerpt) => {
    const text = writers.realtimeDelta(answer);
    expect(text).toBe(JSON.stringify(answer));
    expect(text).toContain(excerpt);
  });

  it('writes only the keys the schema lists: the policy builds each answer with exactly those, in order', () => {
    const { job_id, ...rest } = delta;
    expect(writers.realtimeDelta({ ...rest, unlisted: 1 })).toBe(JSON.stringify(rest));
    expect(writers.realtimeDelta({ job_id, ...rest })).toBe(JSON.stringify(delta));
  });
});

describe('the app writes its accounting answers with the writers', () => {
  const app = useApp();

  it.each(Object.keys(ROUTES) as Route[])('answers %s byte for byte as JSON.stringify of the policy answer', async (route) => {
    const { answer, requests } = ROUTES[route];
    await fc.assert(
      fc.asyncProperty(requests({ maxAssignments: 12 }), async (request) => {
        const response = await postJson(app(), route, request, ID_HEADER);
        const expected = answer(JSON.parse(JSON.stringify(request)));
        expect(response.statusCode).toBe(expected === null ? 204 : 200);
        expect(response.body).toBe(expected === null ? '' : JSON.stringify(expected));
      }),
      { numRuns: 40 },
    );
  });

  it('stringifies no accounting answer, and of a batch only the results that are not deltas', async () => {
    const nothingNew = { ...REALTIME_DELTA_EXAMPLE, accounted_completion_tokens: REALTIME_DELTA_EXAMPLE.frontier_completion_tokens };
    const requests = [
      ['/realtime-delta', JSON.stringify(REALTIME_DELTA_EXAMPLE)],
      ['/settle', JSON.stringify(SETTLE_EXAMPLE)],
      ['/realtime-delta/batch', JSON.stringify({ updates: [REALTIME_DELTA_EXAMPLE, nothingNew, {}] })],
    ] as const;
    const stringify = vi.spyOn(JSON, 'stringify');
    const responses = [];
    for (const [url, payload] of requests) responses.push(await app().inject({ method: 'POST', url, payload, headers: { 'content-type': 'application/json' } }));
    // Arrays are stringified too: the digests of posting ids are taken over them.
    const objectsStringified = stringify.mock.calls.map(([value]) => value).filter((value) => typeof value === 'object' && value !== null && !Array.isArray(value));
    stringify.mockRestore();
    expect(responses.map((response) => response.statusCode)).toEqual([200, 200, 200]);
    const { results } = responses[2]!.json<{ results: { status: number }[] }>();
    expect(results.map((result) => result.status)).toEqual([200, 204, 400]);
    expect(objectsStringified).toEqual([results[1], results[2]]);
  });

  it('gives a writer to the accounting answers\' schemas alone', () => {
    const compile = answerSerializerCompiler(writers);
    expect(compile({ schema: schemas.realtimeDelta.realtimeDeltaResponse })).toBe(writers.realtimeDelta);
    expect(compile({ schema: schemas.realtimeDeltaBatch.realtimeDeltaBatchResponse })).toBe(writers.realtimeDeltaBatch);
    const problemWriter = compile({ schema: schemas.problems.problem });
    expect(Object.values(writers)).not.toContain(problemWriter);
    const problem = { type: 'urn:x', title: 't', status: 400, detail: 'd', request_id: 'r', unlisted: true };
    expect(problemWriter(problem)).toBe(JSON.stringify(problem));
  });
});

describe('the offload task writes what JSON.stringify writes', () => {
  const answerers = offloadedAnswerers(catalog, schemas);
  const parseJson = jsonTextParserOf(Fastify());

  it.each(['/realtime-delta', '/contribution', '/settle', '/realtime-delta/batch'] as const)('for random valid requests of %s', (route) => {
    const { answer, requests } = ROUTES[route];
    fc.assert(
      fc.property(requests({ maxAssignments: 12 }), (request) => {
        const text = JSON.stringify(request);
        const outcome = answerTask({ route, body: Buffer.from(text), request_id: REQUEST_ID, csv: false }, answerers, parseJson);
        const expected = answer(JSON.parse(text));
        if (expected === null) return void expect(outcome.status).toBe(204);
        expect('bytes' in outcome && Buffer.from(outcome.bytes).toString()).toBe(JSON.stringify(expected));
      }),
      { numRuns: 100 },
    );
  });
});

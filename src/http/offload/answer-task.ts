/**
 * A whole request answered in a worker: the JSON body read with the app's own checks
 * (src/http/json-body.ts), answered by the route's own rules (src/http/route-answers.ts), then
 * written out as JSON or CSV. Pure, so it also runs on the main thread in tests.
 */
import type { Contribution, PolicyCatalog, RealtimeDelta, Settlement } from '../../policy/index.js';
import { workerCreditsCsv } from '../csv.js';
import { readReceivedJson, type JsonTextParser } from '../json-body.js';
import { refuseOversizedBatchBody } from '../list-limits.js';
import { clientProblem } from '../problem.js';
import { answerRealtimeDeltaBatch, type RealtimeDeltaBatchResult } from '../realtime-delta-batch.js';
import { answerBody, routeAnswerers, type BodyAnswerer } from '../route-answers.js';
import type { ApiSchemas } from '../schemas/api.js';
import type { OffloadedRoute, OffloadOutcome, OffloadTask } from './task.js';

/** A route's answerer, and what of its answer the metrics count. */
interface OffloadedAnswerer {
  readonly answerer: BodyAnswerer<never, never>;
  readonly counted: (answer: never) => unknown;
}

export type OffloadedAnswerers = Readonly<Record<OffloadedRoute, OffloadedAnswerer>>;

export function offloadedAnswerers(catalog: PolicyCatalog, schemas: ApiSchemas): OffloadedAnswerers {
  const { realtimeDeltaBatch } = schemas;
  const answerers = routeAnswerers(catalog, schemas);
  const batch: BodyAnswerer<{ updates: unknown[] }, { results: RealtimeDeltaBatchResult[] }> = {
    // As the batch route's validator does first.
    refuseOversized: (body) => refuseOversizedBatchBody(body, realtimeDeltaBatch.max_updates),
    // The route's schema only says the updates are a list; each is read by the delta's answerer.
    read: (body) => realtimeDeltaBatch.realtimeDeltaBatchRequest.safeParse(body),
    price: ({ updates }, request_id) => ({
      results: answerRealtimeDeltaBatch(updates, { answerer: answerers.realtimeDelta, max_updates: realtimeDeltaBatch.max_updates, request_id }),
    }),
  };
  return {
    '/realtime-delta': { answerer: answerers.realtimeDelta, counted: countedDelta },
    '/contribution': { answerer: answerers.contribution, counted: () => ({}) },
    '/settle': { answerer: answerers.settlement, counted: countedSettlement },
    '/realtime-delta/batch': { answerer: batch, counted: countedBatch },
  } as unknown as OffloadedAnswerers;
}

export function answerTask(task: OffloadTask, answerers: OffloadedAnswerers, parseJson: JsonTextParser): OffloadOutcome {
  let body: unknown;
  try {
    body = readReceivedJson(Buffer.from(task.body.buffer, task.body.byteOffset, task.body.byteLength), parseJson);
  } catch (error) {
    const problem = clientProblem(error, undefined);
    if (problem === undefined) throw error;
    return { status: problem.status, problem };
  }
  const { answerer, counted } = answerers[task.route];
  const outcome = answerBody(body, answerer, task.request_id);
  if (!('answer' in outcome)) return outcome;
  const { workersOf } = answerer;
  const text = task.csv && workersOf !== undefined ? workerCreditsCsv(workersOf(outcome.answer)) : JSON.stringify(outcome.answer);
  // A buffer of its own (never a slice of Node's shared pool), so that it can be moved.
  const bytes = Buffer.allocUnsafeSlow(Buffer.byteLength(text));
  bytes.write(text);
  return { status: 200, bytes, counted: counted(outcome.answer) };
}

/* What metrics.ts reads of an answer, and nothing else: the burn and the payouts' budget, as their decimal strings. */
function countedCredits(contribution: Contribution | undefined): { job_credit_budget: string } | undefined {
  return contribution === undefined ? undefined : { job_credit_budget: contribution.job_credit_budget };
}

function countedDelta(delta: RealtimeDelta): unknown {
  return { consumption: { total_credits: delta.consumption.total_credits }, contribution: countedCredits(delta.contribution) };
}

function countedSettlement(settlement: Settlement): unknown {
  if (settlement.reconciliation === undefined) return {};
  return {
    reconciliation: { final_delta_credits: settlement.reconciliation.final_delta_credits },
    contribution: countedCredits(settlement.contribution),
  };
}

function countedBatch({ results }: { results: RealtimeDeltaBatchResult[] }): unknown {
  return {
    results: results.map((result) => {
      if ('delta' in result) return { delta: countedDelta(result.delta) };
      return 'problem' in result ? { problem: { type: result.problem.type } } : {};
    }),
  };
}

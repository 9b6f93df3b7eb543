/**
 * The answers of POST /realtime-delta/batch. Each update is answered exactly as POST
 * /realtime-delta answers it alone: the same request schema, policy call and problem body, with
 * the batch's request id. A client's mistake in one update is that update's result; a bug is
 * not, and fails the whole batch with a 500, as it fails a single request, rather than hide
 * among the results.
 */
import type { RealtimeDelta } from '../policy/index.js';
import { refuseOversizedBatch } from './list-limits.js';
import type { ProblemFields } from './problem.js';
import { answerBody, type RealtimeDeltaAnswerer } from './route-answers.js';
import type { Problem } from './schemas/problem.js';

export type RealtimeDeltaBatchResult =
  | { readonly status: 200; readonly delta: RealtimeDelta }
  | { readonly status: 204 }
  | { readonly status: number; readonly problem: Problem };

export interface RealtimeDeltaBatch {
  /** POST /realtime-delta's own answerer: its request schema, which every update must match, and its policy. */
  readonly answerer: RealtimeDeltaAnswerer;
  readonly max_updates: number;
  /** The batch's request id, which every problem names. */
  readonly request_id: string;
}

/** One result per update, in order; a batch over `max_updates` is a rule violation of the whole. */
export function answerRealtimeDeltaBatch(updates: readonly unknown[], batch: RealtimeDeltaBatch): RealtimeDeltaBatchResult[] {
  refuseOversizedBatch(updates, batch.max_updates);
  return updates.map((update) => answerUpdate(update, batch));
}

function answerUpdate(update: unknown, batch: RealtimeDeltaBatch): RealtimeDeltaBatchResult {
  const outcome = answerBody(update, batch.answerer, batch.request_id);
  if ('problem' in outcome) return refused(outcome.problem, batch.request_id);
  return 'answer' in outcome ? { status: 200, delta: outcome.answer } : { status: 204 };
}

function refused(problem: ProblemFields, request_id: string): RealtimeDeltaBatchResult {
  return { status: problem.status, problem: { ...problem, request_id } };
}

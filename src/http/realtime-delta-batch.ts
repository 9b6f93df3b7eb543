/**
 * The answers of POST /realtime-delta/batch. Each update is answered exactly as POST
 * /realtime-delta answers it alone: the same request schema, policy call and problem body, with
 * the batch's request id. A client's mistake in one update is that update's result; a bug is
 * not, and fails the whole batch with a 500, as it fails a single request, rather than hide
 * among the results.
 */
import { computeRealtimeDelta, priceByVersion, type PolicyCatalog, type RealtimeDelta } from '../policy/index.js';
import { refuseOversizedAssignments, refuseOversizedBatch } from './list-limits.js';
import { clientProblem, invalidRequest, type ProblemFields } from './problem.js';
import { describeZodIssues } from './schema-issues.js';
import type { Problem } from './schemas/problem.js';
import type { RealtimeDeltaSchemas } from './schemas/realtime-delta.js';

export type RealtimeDeltaBatchResult =
  | { readonly status: 200; readonly delta: RealtimeDelta }
  | { readonly status: 204 }
  | { readonly status: number; readonly problem: Problem };

export interface RealtimeDeltaBatch {
  readonly catalog: PolicyCatalog;
  /** The request schema of POST /realtime-delta, which every update must match. */
  readonly request: RealtimeDeltaSchemas['realtimeDeltaRequest'];
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
  try {
    // As the single route's preValidation hook does, before the schema reads the elements.
    refuseOversizedAssignments(batch.catalog, update);
    const parsed = batch.request.safeParse(update);
    if (!parsed.success) return refused(invalidRequest(describeZodIssues(parsed.error.issues, update)), batch.request_id);
    return accounted(priceByVersion(batch.catalog, parsed.data.policy_version, (settings) => computeRealtimeDelta(parsed.data, settings)));
  } catch (error) {
    const problem = clientProblem(error, update);
    if (problem === undefined) throw error;
    return refused(problem, batch.request_id);
  }
}

function accounted(delta: RealtimeDelta | null): RealtimeDeltaBatchResult {
  return delta === null ? { status: 204 } : { status: 200, delta };
}

function refused(problem: ProblemFields, request_id: string): RealtimeDeltaBatchResult {
  return { status: problem.status, problem: { ...problem, request_id } };
}

/**
 * An accounting body answered as its route answers it, in the order the route's hooks run: the
 * size rules of its lists (the route's preValidation), its request schema, then the policy. A
 * batch answers each of its updates with it, and the offload worker (src/http/offload/) whole
 * requests, so neither keeps a copy of a route's rules.
 */
import type { z } from 'zod';
import {
  computeContribution,
  computeRealtimeDelta,
  priceByVersion,
  settleConsumption,
  type Contribution,
  type PolicyCatalog,
  type RealtimeDelta,
  type Settlement,
  type WorkerCredit,
} from '../policy/index.js';
import { refuseOversizedAssignments } from './list-limits.js';
import { clientProblem, invalidRequest, type ProblemFields } from './problem.js';
import { describeZodIssues } from './schema-issues.js';
import type { ApiSchemas } from './schemas/api.js';

export type BodyOutcome<Answer> =
  | { readonly status: 200; readonly answer: Answer }
  | { readonly status: 204 }
  | { readonly status: number; readonly problem: ProblemFields };

export interface BodyAnswerer<Request, Answer> {
  /** The route's checks before its schema (list lengths); throws a policy error to refuse. */
  readonly refuseOversized: (body: unknown) => void;
  readonly request: z.ZodType<Request>;
  /** The route's answer, or null for a 204; `request_id` is for answers that name it inside. */
  readonly price: (request: Request, request_id: string) => Answer | null;
  /** The workers of an answer, for routes that also answer CSV. */
  readonly workersOf?: (answer: Answer) => readonly WorkerCredit[];
}

/** The outcome of `body`: a client's mistake is a problem; a bug is thrown, as it is by a route. */
export function answerBody<Request, Answer>(body: unknown, answerer: BodyAnswerer<Request, Answer>, request_id: string): BodyOutcome<Answer> {
  try {
    answerer.refuseOversized(body);
    const parsed = answerer.request.safeParse(body);
    if (!parsed.success) return refused(invalidRequest(describeZodIssues(parsed.error.issues, body)));
    const answer = answerer.price(parsed.data, request_id);
    return answer === null ? { status: 204 } : { status: 200, answer };
  } catch (error) {
    const problem = clientProblem(error, body);
    if (problem === undefined) throw error;
    return refused(problem);
  }
}

function refused(problem: ProblemFields): BodyOutcome<never> {
  return { status: problem.status, problem };
}

type RealtimeDeltaRequest = z.output<ApiSchemas['realtimeDelta']['realtimeDeltaRequest']>;
type ContributionRequest = z.output<ApiSchemas['contribution']['contributionRequest']>;
type SettleRequest = z.output<ApiSchemas['settlement']['settleRequest']>;

/** POST /realtime-delta, with the request schema every update of a batch must match too. */
export function realtimeDeltaAnswerer(catalog: PolicyCatalog, request: z.ZodType<RealtimeDeltaRequest>) {
  return {
    refuseOversized: (body: unknown) => refuseOversizedAssignments(catalog, body),
    request,
    price: (body: RealtimeDeltaRequest): RealtimeDelta | null => priceByVersion(catalog, body.policy_version, (settings) => computeRealtimeDelta(body, settings)),
    workersOf: ({ contribution }: RealtimeDelta) => contribution.assignments,
  } satisfies BodyAnswerer<RealtimeDeltaRequest, RealtimeDelta>;
}

export function contributionAnswerer(catalog: PolicyCatalog, schemas: ApiSchemas) {
  return {
    refuseOversized: (body: unknown) => refuseOversizedAssignments(catalog, body),
    request: schemas.contribution.contributionRequest,
    price: (body: ContributionRequest): Contribution => priceByVersion(catalog, body.policy_version, (settings) => computeContribution(body, settings)),
    workersOf: ({ assignments }: Contribution) => assignments,
  } satisfies BodyAnswerer<ContributionRequest, Contribution>;
}

export function settlementAnswerer(catalog: PolicyCatalog, schemas: ApiSchemas): BodyAnswerer<SettleRequest, Settlement> {
  return {
    refuseOversized: (body) => refuseOversizedAssignments(catalog, body),
    request: schemas.settlement.settleRequest,
    price: (body) => priceByVersion(catalog, body.policy_version, (settings) => settleConsumption(body, settings)),
  };
}

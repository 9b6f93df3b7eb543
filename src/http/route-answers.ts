/**
 * An accounting body answered as its route answers it, in the order its route checks it: the
 * size rules of its lists (which the route's validator runs first), its request schema, then the
 * policy. A batch answers each of its updates with it, and the offload worker (src/http/offload/)
 * whole requests, so neither keeps a copy of a route's rules.
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
import { RequestChecks, requestReader, type RequestReader } from './request-validation.js';
import { describeZodIssues } from './schema-issues.js';
import type { ApiSchemas } from './schemas/api.js';

export type BodyOutcome<Answer> =
  | { readonly status: 200; readonly answer: Answer }
  | { readonly status: 204 }
  | { readonly status: number; readonly problem: ProblemFields };

export interface BodyAnswerer<Request, Answer> {
  /** The route's checks before its schema (list lengths); throws a policy error to refuse. */
  readonly refuseOversized: (body: unknown) => void;
  /** The route's request schema, as its validator reads a body (src/http/request-validation.ts). */
  readonly read: RequestReader<Request>;
  /** The route's answer, or null for a 204; `request_id` is for answers that name it inside. */
  readonly price: (request: Request, request_id: string) => Answer | null;
  /** The workers of an answer, for routes that also answer CSV. */
  readonly workersOf?: (answer: Answer) => readonly WorkerCredit[];
}

/** The outcome of `body`: a client's mistake is a problem; a bug is thrown, as it is by a route. */
export function answerBody<Request, Answer>(body: unknown, answerer: BodyAnswerer<Request, Answer>, request_id: string): BodyOutcome<Answer> {
  try {
    answerer.refuseOversized(body);
    const parsed = answerer.read(body);
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

/**
 * The answerers of the routes whose bodies a batch or the offload pool also answers. `checks` are
 * the app's, so that each request schema is compiled once for its route and its readers alike.
 */
export function routeAnswerers(catalog: PolicyCatalog, schemas: ApiSchemas, checks: RequestChecks = new RequestChecks()) {
  return {
    realtimeDelta: realtimeDeltaAnswerer(catalog, requestReader(checks, schemas.realtimeDelta.realtimeDeltaRequest)),
    contribution: contributionAnswerer(catalog, requestReader(checks, schemas.contribution.contributionRequest)),
    settlement: settlementAnswerer(catalog, requestReader(checks, schemas.settlement.settleRequest)),
  };
}

export type RouteAnswerers = ReturnType<typeof routeAnswerers>;
export type RealtimeDeltaAnswerer = RouteAnswerers['realtimeDelta'];

/** POST /realtime-delta; every update of a batch is answered by it too. */
function realtimeDeltaAnswerer(catalog: PolicyCatalog, read: RequestReader<RealtimeDeltaRequest>) {
  return {
    refuseOversized: (body: unknown) => refuseOversizedAssignments(catalog, body),
    read,
    price: (body: RealtimeDeltaRequest): RealtimeDelta | null => priceByVersion(catalog, body.policy_version, (settings) => computeRealtimeDelta(body, settings)),
    workersOf: ({ contribution }: RealtimeDelta) => contribution.assignments,
  } satisfies BodyAnswerer<RealtimeDeltaRequest, RealtimeDelta>;
}

function contributionAnswerer(catalog: PolicyCatalog, read: RequestReader<ContributionRequest>) {
  return {
    refuseOversized: (body: unknown) => refuseOversizedAssignments(catalog, body),
    read,
    price: (body: ContributionRequest): Contribution => priceByVersion(catalog, body.policy_version, (settings) => computeContribution(body, settings)),
    workersOf: ({ assignments }: Contribution) => assignments,
  } satisfies BodyAnswerer<ContributionRequest, Contribution>;
}

function settlementAnswerer(catalog: PolicyCatalog, read: RequestReader<SettleRequest>): BodyAnswerer<SettleRequest, Settlement> {
  return {
    refuseOversized: (body) => refuseOversizedAssignments(catalog, body),
    read,
    price: (body) => priceByVersion(catalog, body.policy_version, (settings) => settleConsumption(body, settings)),
  };
}

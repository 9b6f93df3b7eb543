/**
 * Prometheus metrics of one app, collected in a registry of its own: prom-client's global
 * registry would mix the counts of every app built in one process (the tests build many), and
 * registering a second app's metrics in it would throw.
 */
import type { FastifyInstance, RouteHandlerMethod } from 'fastify';
import { collectDefaultMetrics, Counter, Registry } from 'prom-client';
import type { Contribution, RealtimeDelta, Settlement } from '../policy/index.js';
import { problemTypeOf } from './problem.js';
import { RequestDurations } from './request-durations.js';
import type { RealtimeDeltaBatchResult } from './realtime-delta-batch.js';

/** The route label of a request no route matched (a 404, a URL that does not decode): never the raw URL. */
export const UNMATCHED_ROUTE = 'unmatched';

export interface Metrics {
  readonly registry: Registry;
  /** Counts a problem answered outside any request, such as a connection-level refusal. */
  readonly countProblem: (type: string) => void;
  /** Counts a request refused to shed load (src/http/load-shedding.ts). */
  readonly countShed: () => void;
  /**
   * Counts the credits of a 200 answer of the route `url` (its pattern), for the routes whose
   * answers burn credits; undefined for the others. instrumentApp counts the answers route
   * handlers return; whoever answers for a route otherwise (the offload pool) counts its own.
   */
  readonly creditCounterOf: (url: string) => ((answer: never) => void) | undefined;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const problems = new Counter({
    name: 'divy_problems_total',
    help: 'Problem documents answered, by problem type: whole responses (4xx and 5xx) and refused updates of a batch.',
    labelNames: ['type'],
    registers: [registry],
  });
  const shed = new Counter({
    name: 'divy_shed_requests_total',
    help: 'Requests refused with a 503 to shed load: the process was over its event-loop delay or heap threshold, or the offload queue was full.',
    registers: [registry],
  });
  const countProblem = (type: string) => problems.inc({ type });
  const creditCounters = creditCountersOf(registry, countProblem);
  return { registry, countProblem, countShed: () => shed.inc(), creditCounterOf: (url) => creditCounters[url] };
}

/** The credit counters of the routes whose answers burn credits, by route pattern. */
function creditCountersOf(registry: Registry, countProblem: (type: string) => void): Readonly<Record<string, (answer: never) => void>> {
  const burned = new Counter({
    name: 'divy_credits_burned_total',
    help: 'Credits answered to burn (200 answers of /realtime-delta, its batch, and settlement final deltas); a float sum, not the ledger.',
    registers: [registry],
  });
  const paid = new Counter({
    name: 'divy_credits_paid_total',
    help: "Credits answered as workers' payouts of those burns; a float sum, not the ledger.",
    registers: [registry],
  });
  const countDelta = (delta: RealtimeDelta) => {
    burned.inc(Number(delta.consumption.total_credits));
    paid.inc(paidCredits(delta.contribution));
  };
  // Only answers whose credits a coordinator or wallet burns: a quote or a contribution burns nothing,
  // and a settlement without a reservation prices the job without reconciling anything.
  return {
    '/realtime-delta': countDelta,
    '/realtime-delta/batch': ({ results }: { results: RealtimeDeltaBatchResult[] }) => {
      for (const result of results) {
        if ('delta' in result) countDelta(result.delta);
        else if ('problem' in result) countProblem(result.problem.type);
      }
    },
    '/settle': (settlement: Settlement) => {
      if (settlement.reconciliation === undefined) return;
      burned.inc(Number(settlement.reconciliation.final_delta_credits));
      paid.inc(paidCredits(settlement.contribution));
    },
  };
}

/** Instruments every route declared after this call, and the requests no route matches. */
export function instrumentApp(app: FastifyInstance, metrics: Metrics): void {
  const { registry, countProblem, creditCounterOf } = metrics;
  const durations = new RequestDurations({
    name: 'divy_http_request_duration_seconds',
    help: 'Time from receiving a request to answering it, by route pattern and status code.',
    registry,
  });

  // Only the routes whose answers carry credits have them counted, by their handler's wrapper
  // rather than a preSerialization hook, whose stage each request would pay (see
  // requestValidatorCompiler in src/http/request-validation.ts).
  app.addHook('onRoute', (route) => {
    const count = creditCounterOf(route.url);
    if (count === undefined || route.method !== 'POST') return;
    route.handler = countingCredits(route.handler as RouteHandlerMethod, count);
  });
  // Callback hooks: an async one costs a promise on every request. Problems are counted here
  // rather than read back from the body in onSend: every problem Fastify answers goes through
  // sendProblem, which records its type, and a hook stage of its own cost a quote about 0.9 us.
  app.addHook('onResponse', (request, reply, done) => {
    durations.observe(request.routeOptions.url ?? UNMATCHED_ROUTE, reply.statusCode, reply.elapsedTime / 1000);
    const problemType = problemTypeOf(request);
    if (problemType !== undefined) countProblem(problemType);
    done();
  });
}

/** `handler`, counting the credits of the 200 answer it returns; a handler that sent its reply itself returns nothing. */
function countingCredits(handler: RouteHandlerMethod, count: (answer: never) => void): RouteHandlerMethod {
  return function (this: FastifyInstance, request, reply) {
    const answer: unknown = handler.call(this, request, reply);
    if (answer === undefined || reply.statusCode !== 200) return answer;
    // The routes that carry credits answer synchronously; a promise would be counted unread.
    if (answer instanceof Promise) throw new Error(`${request.routeOptions.url} answered a promise: its credits cannot be counted`);
    count(answer as never);
    return answer;
  };
}

/**
 * The workers' payouts of a split: its budget, which they sum to exactly (the policy's
 * allocation guarantees it), read as one number rather than one per worker.
 */
function paidCredits(contribution: Contribution | undefined): number {
  return contribution === undefined ? 0 : Number(contribution.job_credit_budget);
}

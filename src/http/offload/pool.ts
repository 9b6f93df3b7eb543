/**
 * Large jobs answered off the event loop. A body of an offloaded route at least `min_body_bytes`
 * long is handed, as bytes, to a worker-thread pool that parses, validates, prices and writes the
 * answer (./answer-task.ts); the main thread only moves bytes and sends what comes back. Smaller
 * bodies are parsed and answered inline, where a worker's round trip would cost more than it saves.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import { Piscina } from 'piscina';
import { Counter } from 'prom-client';
import { usableCores } from '../../cpu-cores.js';
import type { PolicyCatalog } from '../../policy/index.js';
import type { BodyOffload } from '../json-body.js';
import { OverloadedError } from '../load-shedding.js';
import type { Metrics } from '../metrics.js';
import { sendProblem } from '../problem.js';
import { prefersCsv, representWorkerCredits } from '../worker-credits-answer.js';
import { OFFLOADED_ROUTES, type OffloadedRoute, type OffloadOutcome, type OffloadTask, type OffloadWorkerData } from './task.js';

export interface Offload {
  /** Worker threads (OFFLOAD_THREADS); 0 answers every request inline. */
  readonly threads: number;
  /** Bodies at least this long go to the pool (OFFLOAD_MIN_BODY_BYTES); shorter ones are answered inline. */
  readonly min_body_bytes: number;
  /** Most tasks waiting for a thread; past it a request is shed with a 503. OFFLOAD_QUEUE_PER_THREAD per thread by default. */
  readonly max_queue?: number;
  /** The Retry-After of a shed request, in seconds. */
  readonly retry_after_s: number;
}

/** More threads than this only contend for the same cores. */
export const OFFLOAD_THREADS_MAX = 256;

/**
 * One core stays with the event loop, which still reads, routes and writes every request. The
 * cores are those a container's CPU limit leaves (src/cpu-cores.ts), not the host's.
 */
export function offloadThreadsDefault(): number {
  return Math.max(1, usableCores() - 1);
}

/*
 * Measured on 2 shared cores (event-loop time per POST /realtime-delta, inline vs pool): 50
 * workers, 8 KB: 1.8 vs 1.2 ms; 200 workers, 32 KB: 4.2 vs 1.4 ms; 1000 workers, 160 KB: 13 vs
 * 3.7 ms. Under about 32 KB the pool saves the loop little and adds a thread hop to the latency;
 * from there, what it saves grows with the body.
 */
export const OFFLOAD_MIN_BODY_BYTES_DEFAULT = 32_768;
/** How long a thread waits for a next large job before it stops. */
const OFFLOAD_THREAD_IDLE_MS = 300_000;
/** A 10000-worker job takes ~50 ms of a thread: 16 waiting per thread is under a second of queue. */
export const OFFLOAD_QUEUE_PER_THREAD = 16;

const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';
/** Routes whose answers also come as CSV (src/http/worker-credits-answer.ts). */
const WORKER_CREDIT_ROUTES: ReadonlySet<string> = new Set(['/realtime-delta', '/contribution']);
const OFFLOADED: ReadonlySet<string> = new Set(OFFLOADED_ROUTES);

/** A body the pool answered: its route's handler sends it instead of answering (see answerOffloadedBodies). */
class OffloadedAnswer {
  constructor(readonly outcome: OffloadOutcome | 'shed') {}
}

/**
 * Starts the pool, closes it with the app (after in-flight tasks), and returns the body offload
 * for the JSON parser (src/http/json-body.ts). Call it before the routes are declared.
 */
export function offloadLargeBodies(app: FastifyInstance, offload: Offload, catalog: PolicyCatalog, batch_max_updates: number, metrics: Metrics): BodyOffload {
  const pool = startPool(offload, { catalog, batch_max_updates });
  const maxQueue = pool.options.maxQueue;
  const offloaded = new Counter({
    name: 'divy_offloaded_requests_total',
    help: `Requests whose body was answered in the worker-thread pool (bodies of at least ${offload.min_body_bytes} bytes).`,
    registers: [metrics.registry],
  });
  const tasks = inFlightTasks();
  // After the server closed (Fastify closes it in the last onClose hook registered, which runs
  // first); piscina's close would drop the tasks still queued, so they are waited for first.
  app.addHook('onClose', async () => {
    await tasks.drained();
    await pool.close();
  });
  answerOffloadedBodies(app, offload.retry_after_s, metrics);

  return (request, body) => {
    if (body.length < offload.min_body_bytes || !OFFLOADED.has(request.routeOptions.url ?? '')) return undefined;
    if (pool.queueSize >= maxQueue) return Promise.resolve(new OffloadedAnswer('shed'));
    offloaded.inc();
    // A copy in a buffer of its own, moved rather than cloned; the received bytes stay for the request digest.
    const copy = new Uint8Array(body);
    const task: OffloadTask = { route: request.routeOptions.url as OffloadedRoute, body: copy, request_id: request.id, csv: prefersCsv(request) };
    return tasks.track(pool.run(task, { transferList: [copy.buffer] }) as Promise<OffloadOutcome>).then((outcome) => new OffloadedAnswer(outcome));
  };
}

/**
 * The handler of every route the pool serves sends what the pool answered, in place of its own
 * answer. A wrapped handler rather than a preHandler hook, whose stage every request of every
 * route would pay, pooled or not (see requestValidatorCompiler).
 */
function answerOffloadedBodies(app: FastifyInstance, retry_after_s: number, metrics: Metrics): void {
  app.addHook('onRoute', (route) => {
    if (route.method !== 'POST' || !OFFLOADED.has(route.url)) return;
    const answered = { retry_after_s, countShed: metrics.countShed, countCredits: metrics.creditCounterOf(route.url) };
    route.handler = answeringOffloaded(route.handler as RouteHandlerMethod, answered);
  });
}

interface OffloadedAnswering {
  readonly retry_after_s: number;
  readonly countShed: () => void;
  /** What metrics count of the route's 200 answers; undefined for a route whose answers burn nothing. */
  readonly countCredits: ((counted: never) => void) | undefined;
}

function answeringOffloaded(handler: RouteHandlerMethod, { retry_after_s, countShed, countCredits }: OffloadedAnswering): RouteHandlerMethod {
  return function (this: FastifyInstance, request, reply) {
    if (!(request.body instanceof OffloadedAnswer)) return handler.call(this, request, reply);
    const { outcome } = request.body;
    if (outcome === 'shed') {
      countShed();
      reply.header('retry-after', String(retry_after_s));
      throw new OverloadedError('queue of large jobs', retry_after_s);
    }
    // The fields of the answer that metrics count, which the worker read out of it.
    if ('bytes' in outcome) countCredits?.(outcome.counted as never);
    sendOutcome(request, reply, outcome);
    // Sent: a handler that returns nothing leaves the reply as it is.
    return undefined;
  };
}

/** Counts the tasks not yet answered, and tells when none is left. */
function inFlightTasks() {
  let count = 0;
  let onDrained: (() => void) | undefined;
  return {
    track<Outcome>(task: Promise<Outcome>): Promise<Outcome> {
      count += 1;
      return task.finally(() => {
        count -= 1;
        if (count === 0) onDrained?.();
      });
    },
    drained(): Promise<void> {
      return count === 0 ? Promise.resolve() : new Promise((resolve) => (onDrained = resolve));
    },
  };
}

function startPool(offload: Offload, workerData: OffloadWorkerData): Piscina {
  // Under vitest or tsx this module is TypeScript, and so is the worker beside it.
  const typescript = import.meta.url.endsWith('.ts');
  return new Piscina({
    filename: new URL(`./worker.${typescript ? 'ts' : 'js'}`, import.meta.url).href,
    execArgv: typescript ? ['--import', 'tsx'] : [],
    // Threads start with the first large jobs, so a process that serves none (a replica of small
    // requests, a short-lived one) never pays for them, then stay up, schemas built, while jobs come.
    minThreads: 0,
    maxThreads: offload.threads,
    idleTimeout: OFFLOAD_THREAD_IDLE_MS,
    maxQueue: offload.max_queue ?? offload.threads * OFFLOAD_QUEUE_PER_THREAD,
    workerData,
  });
}

/** Sends what the worker answered as the route would have: the same status, headers and bytes. */
function sendOutcome(request: FastifyRequest, reply: FastifyReply, outcome: OffloadOutcome): FastifyReply {
  if ('problem' in outcome) return sendProblem(request, reply, outcome.problem);
  if (!('bytes' in outcome)) return reply.code(204).send(null);
  const url = request.routeOptions.url ?? '';
  const csv = WORKER_CREDIT_ROUTES.has(url) && representWorkerCredits(reply, prefersCsv(request));
  if (!csv) reply.type(JSON_CONTENT_TYPE);
  const body = Buffer.from(outcome.bytes.buffer, outcome.bytes.byteOffset, outcome.bytes.byteLength);
  // Fastify sends the Buffer a serializer returns as it is; its types only name strings. The
  // payload the serializer is given goes unread: the client gets the bytes the worker wrote.
  return reply.serializer((() => body) as unknown as () => string).send(outcome.counted);
}

/** A validator compiler that lets a body the pool already answered through: the worker validated it. */
export function passingOffloadedAnswers<Compiler extends (...args: never[]) => (data: unknown) => unknown>(compiler: Compiler): Compiler {
  return ((...args: Parameters<Compiler>) => {
    const validate = compiler(...args);
    return (data: unknown) => (data instanceof OffloadedAnswer ? { value: data } : validate(data));
  }) as Compiler;
}

/**
 * Load shedding: while the process is over an event-loop delay or heap threshold, new requests are
 * refused at once with a 503 problem and Retry-After, instead of queueing behind the work already
 * accepted and slowing every caller. @fastify/under-pressure samples the process.
 *
 * The refusal is written before Fastify sees the request: under-pressure's own hook runs once
 * Fastify has built the request, its logger and reply, and by then a refusal costs about as much
 * as a small answer (measured: 100 us shed against 230 us served), so at three times capacity the
 * backlog kept growing. Here a shed request costs Node's HTTP parse and one small write. Such a
 * request has no log line of its own (a line at most once a second counts them); the metrics count
 * each one. Probes and /metrics are never shed: an overloaded replica is still alive, and measured.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { getHeapStatistics } from 'node:v8';
import underPressure from '@fastify/under-pressure';
import type { FastifyInstance } from 'fastify';
import { overloadedProblem, PROBLEM_CONTENT_TYPE, PROBLEM_TYPES } from './problem.js';
import { REQUEST_ID_HEADER, requestIdOf } from './request-id.js';

export interface LoadShedding {
  /** Shed while the mean event-loop delay of the last sample is over this (SHED_MAX_EVENT_LOOP_DELAY_MS); 0 never sheds on it. */
  readonly max_event_loop_delay_ms: number;
  /** Shed while the V8 heap in use is over this (SHED_MAX_HEAP_USED_BYTES); 0 never sheds on it. */
  readonly max_heap_used_bytes: number;
  /** How often the process is sampled (SHED_SAMPLE_INTERVAL_MS): how fast shedding starts, and stops once the load drops. */
  readonly sample_interval_ms: number;
  /** The Retry-After of a shed request, in seconds (SHED_RETRY_AFTER_S). */
  readonly retry_after_s: number;
}

/**
 * Measured at three times the capacity of 64-worker deltas (BENCHMARKS.md, Overload): with 100 ms
 * the process still accepted about 75% of its capacity, the backlog grew, and accepted requests
 * waited 16 s at p99; with 25 ms it accepted about 60%, and their p99 stayed under 200 ms.
 */
export const SHED_MAX_EVENT_LOOP_DELAY_MS_DEFAULT = 25;
/** The sampler's own resolution (under-pressure measures in 10 ms steps) is the floor of its interval. */
export const SHED_SAMPLE_INTERVAL_MS_MIN = 10;
export const SHED_SAMPLE_INTERVAL_MS_DEFAULT = 100;
export const SHED_RETRY_AFTER_S_DEFAULT = 1;
/** Shedding on heap starts at this share of V8's heap limit, before the collector thrashes and the process runs out of memory. */
const HEAP_LIMIT_SHARE = 0.9;
/** At most one log line a second says how many requests were shed since the last one. */
const SHED_LOG_INTERVAL_MS = 1000;

export function shedMaxHeapUsedBytesDefault(): number {
  return Math.floor(getHeapStatistics().heap_size_limit * HEAP_LIMIT_SHARE);
}

/** Routes that answer however loaded the process is: probes, and the metrics that show the load. */
export const NEVER_SHED: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

export const PRESSURE_NAMES = {
  eventLoopDelay: 'event-loop delay',
  heapUsedBytes: 'heap in use',
} as const;

/** Thrown where a request is shed inside the app (a full offload queue); the error handler turns it into the 503 problem. */
export class OverloadedError extends Error {
  override readonly name = 'OverloadedError';
  readonly statusCode = 503;
  constructor(
    readonly pressure: string,
    readonly retry_after_s: number,
  ) {
    super(`shedding load: ${pressure} over its limit`);
  }
}

export interface SheddingCounters {
  readonly countShed: () => void;
  readonly countProblem: (type: string) => void;
}

/** Starts the sampler and sheds on the app's server; call it once the app is constructed. */
export async function shedLoad(app: FastifyInstance, shedding: LoadShedding, counters: SheddingCounters): Promise<void> {
  // No thresholds given to under-pressure: it samples only, and adds no hook of its own.
  await app.register(underPressure, { sampleInterval: shedding.sample_interval_ms });
  // The samples taken while the app is built and started measure that work, not load: shedding
  // starts only once two samples have been taken after the app is ready.
  let armed = false;
  app.addHook('onReady', async () => {
    setTimeout(() => (armed = true), 2 * shedding.sample_interval_ms).unref();
  });
  const pressure = (): string | undefined => {
    if (!armed) return undefined;
    const { eventLoopDelay, heapUsed } = app.memoryUsage();
    if (shedding.max_event_loop_delay_ms > 0 && eventLoopDelay > shedding.max_event_loop_delay_ms) return PRESSURE_NAMES.eventLoopDelay;
    if (shedding.max_heap_used_bytes > 0 && heapUsed > shedding.max_heap_used_bytes) return PRESSURE_NAMES.heapUsedBytes;
    return undefined;
  };
  const logShed = shedLogger(app);
  shedBeforeTheApp(app.server, (request, response) => {
    // The pressure first: it is two sampled numbers, and mostly there is none.
    const pressed = pressure();
    if (pressed === undefined || NEVER_SHED.has(pathOf(request))) return false;
    counters.countShed();
    counters.countProblem(PROBLEM_TYPES.overloaded);
    logShed(pressed);
    answerShed(request, response, pressed, shedding.retry_after_s);
    return true;
  });
}

/** Puts `shed` in front of the server's request listeners (Fastify's handler): a request it answers never reaches them. */
function shedBeforeTheApp(server: Server, shed: (request: IncomingMessage, response: ServerResponse) => boolean): void {
  const listeners = server.listeners('request') as ((request: IncomingMessage, response: ServerResponse) => void)[];
  server.removeAllListeners('request');
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    if (shed(request, response)) return;
    for (const listener of listeners) listener(request, response);
  });
}

function pathOf(request: IncomingMessage): string {
  const url = request.url ?? '';
  const query = url.indexOf('?');
  return query < 0 ? url : url.slice(0, query);
}

/** The problem body written straight to the response: the same body the error handler writes for an OverloadedError. */
function answerShed(request: IncomingMessage, response: ServerResponse, pressure: string, retry_after_s: number): void {
  const request_id = requestIdOf(request);
  const body = JSON.stringify({ ...overloadedProblem(pressure, retry_after_s), request_id });
  response.writeHead(503, {
    'content-type': `${PROBLEM_CONTENT_TYPE}; charset=utf-8`,
    'content-length': Buffer.byteLength(body),
    'retry-after': String(retry_after_s),
    [REQUEST_ID_HEADER]: request_id,
  });
  response.end(body);
}

/** Logs at warn, at most once a second, how many requests were shed since the last line. */
function shedLogger(app: FastifyInstance): (pressure: string) => void {
  let shedSinceLine = 0;
  let lastLineAt = 0;
  return (pressure) => {
    shedSinceLine += 1;
    const now = Date.now();
    if (now - lastLineAt < SHED_LOG_INTERVAL_MS) return;
    app.log.warn({ shed_requests: shedSinceLine, pressure, problem_type: PROBLEM_TYPES.overloaded }, 'shedding load');
    shedSinceLine = 0;
    lastLineAt = now;
  };
}

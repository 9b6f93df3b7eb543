/**
 * Load shedding: while the process is over an event-loop delay, event-loop utilization or heap
 * threshold, a share of new requests is refused at once with a 503 problem and Retry-After,
 * instead of queueing behind the work already accepted and slowing every caller.
 * @fastify/under-pressure samples the process; ./admission-share.ts sets the share admitted.
 *
 * The refusal is written before Fastify sees the request: under-pressure's own hook runs once
 * Fastify has built the request, its logger and reply, and by then a refusal costs about as much
 * as a small answer (measured: 100 us shed against 230 us served), so at three times capacity the
 * backlog kept growing. Here a shed request costs Node's HTTP parse and one small write. Such a
 * request has no log line of its own (a line at most once a second counts them); the metrics count
 * each one. Probes and /metrics are never shed: an overloaded replica is still alive, and measured.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import underPressure from '@fastify/under-pressure';
import type { FastifyInstance } from 'fastify';
import { Gauge, type Registry } from 'prom-client';
import { AdmissionShare } from './admission-share.js';
import { LoopPressure, PRESSURE_NAMES } from './loop-pressure.js';
import { overloadedProblem, PROBLEM_CONTENT_TYPE, PROBLEM_TYPES } from './problem.js';
import { REQUEST_ID_HEADER, requestIdOfRaw } from './request-id.js';
import { urlPath } from './url-path.js';

export interface LoadShedding {
  /** The loop is over its limits while the event-loop delay of the last sample is over this and its utilization over the next (SHED_MAX_EVENT_LOOP_DELAY_MS); 0 never sheds on the loop. */
  readonly max_event_loop_delay_ms: number;
  /** The share of the last sample the event loop was busy, 0 to 1, over which, with the delay, the loop is over its limits (SHED_MAX_EVENT_LOOP_UTILIZATION); 0: the delay decides alone. */
  readonly max_event_loop_utilization: number;
  /** Shed every request while the V8 heap in use is over this (SHED_MAX_HEAP_USED_BYTES); 0 never sheds on it. */
  readonly max_heap_used_bytes: number;
  /** How often the process is sampled (SHED_SAMPLE_INTERVAL_MS): how fast shedding starts, and stops once the load drops. */
  readonly sample_interval_ms: number;
  /** The Retry-After of a shed request, in seconds (SHED_RETRY_AFTER_S). */
  readonly retry_after_s: number;
}

/**
 * Measured at three times the capacity of 64-worker deltas (BENCHMARKS.md, Overload), when the
 * delay alone decided and all or nothing was shed: with 100 ms the process still accepted about
 * 75% of its capacity, the backlog grew, and accepted requests waited 16 s at p99; with 25 ms it
 * accepted about 60%, and their p99 stayed under 200 ms.
 */
export const SHED_MAX_EVENT_LOOP_DELAY_MS_DEFAULT = 25;
/**
 * A loop idle a tenth of the time keeps up with what it is sent. Together with the delay, it tells
 * a backlog from a few clients that send as fast as they are answered: those keep the loop busy,
 * not late.
 */
export const SHED_MAX_EVENT_LOOP_UTILIZATION_DEFAULT = 0.9;
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
  readonly registry: Registry;
  readonly countShed: () => void;
  readonly countProblem: (type: string) => void;
}

/** Starts the sampler and sheds on the app's server; call it once the app is constructed. */
export async function shedLoad(app: FastifyInstance, shedding: LoadShedding, counters: SheddingCounters): Promise<void> {
  // No thresholds given to under-pressure: it samples only, and adds no hook of its own.
  await app.register(underPressure, { sampleInterval: shedding.sample_interval_ms });
  const loop = new LoopPressure(app, shedding);
  const admission = new SampledAdmission(loop, shedding.sample_interval_ms);
  app.addHook('onReady', (done) => {
    admission.arm(performance.now());
    done();
  });
  app.addHook('onClose', (_app, done) => {
    loop.stop();
    done();
  });
  new Gauge({
    name: 'divy_admitted_share',
    help: 'The share of new requests load shedding admits (1: none shed); halved each sample the event loop is over its limits, 0 while the heap is.',
    registers: [counters.registry],
    collect() {
      admission.sampleIfDue(performance.now());
      this.set(admission.share.current);
    },
  });
  const logShed = shedLogger(app);
  const answerShed = shedAnswerer(shedding.retry_after_s);
  shedBeforeTheApp(app.server, (request, response) => {
    admission.sampleIfDue(performance.now());
    // The share first: mostly it is 1, and nothing else is looked at.
    const share = admission.share;
    if (share.current === 1 || NEVER_SHED.has(pathOf(request)) || share.admits()) return false;
    counters.countShed();
    counters.countProblem(PROBLEM_TYPES.overloaded);
    logShed(admission.pressed);
    answerShed(request, response, admission.pressed);
    return true;
  });
}

/** The share admitted, moved by a sample of the process taken at most once an interval, as requests come. */
class SampledAdmission {
  readonly share = new AdmissionShare();
  /** The limit named in refusals: the last one a sample found over, until the share is back to 1. */
  pressed: string = PRESSURE_NAMES.eventLoopDelay;
  private lastSampleAt = 0;
  private nextSampleAt = Infinity;

  constructor(
    private readonly loop: LoopPressure,
    private readonly interval_ms: number,
  ) {}

  /**
   * Takes the first sample that counts two intervals from `now`: the samples before it would
   * measure the work of building and starting the app, not load.
   */
  arm(now: number): void {
    this.lastSampleAt = now + this.interval_ms;
    this.nextSampleAt = this.lastSampleAt + this.interval_ms;
    setTimeout(() => this.loop.restart(), this.interval_ms).unref();
  }

  sampleIfDue(now: number): void {
    if (now < this.nextSampleAt) return;
    const { pressure, name } = this.loop.sample(now);
    if (name !== undefined) this.pressed = name;
    this.share.sampled(pressure, Math.floor((now - this.lastSampleAt) / this.interval_ms));
    this.lastSampleAt = now;
    this.nextSampleAt = now + this.interval_ms;
  }
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
  return urlPath(request.url ?? '');
}

/**
 * Writes the problem body straight to the response: the same body the error handler writes for an
 * OverloadedError. At three times capacity nearly every request takes this path, so what does not
 * change from one refusal to the next (all but the request id) is written once.
 */
function shedAnswerer(retry_after_s: number): (request: IncomingMessage, response: ServerResponse, pressure: string) => void {
  const bodyStarts = new Map<string, string>();
  const retryAfter = String(retry_after_s);
  const contentType = `${PROBLEM_CONTENT_TYPE}; charset=utf-8`;
  return (request, response, pressure) => {
    let bodyStart = bodyStarts.get(pressure);
    if (bodyStart === undefined) {
      const problem = JSON.stringify({ ...overloadedProblem(pressure, retry_after_s), request_id: '' });
      bodyStarts.set(pressure, (bodyStart = problem.slice(0, problem.length - '"}'.length)));
    }
    const request_id = requestIdOfRaw(request);
    // Ids are printable ASCII with no quote or backslash (request-id.ts): JSON as they are.
    const body = `${bodyStart}${request_id}"}`;
    response.writeHead(503, {
      'content-type': contentType,
      'content-length': body.length,
      'retry-after': retryAfter,
      [REQUEST_ID_HEADER]: request_id,
    });
    response.end(body);
  };
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

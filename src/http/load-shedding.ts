/**
 * Load shedding: while the process is over an event-loop delay or heap threshold, new requests are
 * refused at once, before their bodies are read, with a 503 problem and Retry-After, instead of
 * queueing behind the work already accepted and slowing every caller. @fastify/under-pressure
 * samples the process. Probes and /metrics are never shed: an overloaded replica is still alive,
 * and still measured.
 */
import { getHeapStatistics } from 'node:v8';
import underPressure from '@fastify/under-pressure';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

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

/** A delay past which a small request already waits longer than callers on the hot path expect. */
export const SHED_MAX_EVENT_LOOP_DELAY_MS_DEFAULT = 100;
/** The sampler's own resolution (under-pressure measures in 10 ms steps) is the floor of its interval. */
export const SHED_SAMPLE_INTERVAL_MS_MIN = 10;
export const SHED_SAMPLE_INTERVAL_MS_DEFAULT = 100;
export const SHED_RETRY_AFTER_S_DEFAULT = 1;
/** Shedding on heap starts at this share of V8's heap limit, before the collector thrashes and the process runs out of memory. */
const HEAP_LIMIT_SHARE = 0.9;

export function shedMaxHeapUsedBytesDefault(): number {
  return Math.floor(getHeapStatistics().heap_size_limit * HEAP_LIMIT_SHARE);
}

/** Routes that answer however loaded the process is: probes, and the metrics that show the load. */
export const NEVER_SHED: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

export const PRESSURE_NAMES: Readonly<Record<string, string>> = {
  eventLoopDelay: 'event-loop delay',
  heapUsedBytes: 'heap in use',
};

/** Thrown for a shed request; the error handler turns it into the 503 problem. */
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

/** Registers the sampler and the shedding hook; call it before the routes and after the request-id hook. */
export async function shedLoad(app: FastifyInstance, shedding: LoadShedding, countShed: () => void): Promise<void> {
  // The samples taken while the app is built and started measure that work, not load: shedding
  // starts only once two samples have been taken after the app is ready.
  let armed = false;
  app.addHook('onReady', async () => {
    setTimeout(() => (armed = true), 2 * shedding.sample_interval_ms).unref();
  });
  await app.register(underPressure, {
    maxEventLoopDelay: shedding.max_event_loop_delay_ms,
    maxHeapUsedBytes: shedding.max_heap_used_bytes,
    sampleInterval: shedding.sample_interval_ms,
    pressureHandler: (request: FastifyRequest, reply: FastifyReply, type: string) => {
      if (!armed || NEVER_SHED.has(request.routeOptions.url ?? '')) return undefined;
      countShed();
      reply.header('retry-after', String(shedding.retry_after_s));
      // A rejected promise reaches the app's one error handler, like any other refusal.
      return Promise.reject(new OverloadedError(PRESSURE_NAMES[type] ?? type, shedding.retry_after_s));
    },
  });
}

/**
 * Samples what the process is under, when a request arrives rather than from a timer alone. With
 * thousands of connections ready at once, libuv runs their callbacks for seconds before it runs
 * a timer again (measured at three times capacity: 5 s between two of under-pressure's samples),
 * so a timer-driven sampler looks away exactly while the process is overloaded.
 *
 * The heap and the event-loop delay histogram come from @fastify/under-pressure's last sample,
 * which may be from before a stall. A heartbeat timer adds how late it ran, on average, since the
 * last sample, and a stall going on now that is longer than a sample: how long since it last ran.
 * Utilization is read from the loop itself, over the time since the last sample.
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import type { FastifyInstance } from 'fastify';
import type { Pressure } from './admission-share.js';

export interface LoopLimits {
  /** 0: the loop never sheds. */
  readonly max_event_loop_delay_ms: number;
  /** 0: the delay decides alone. */
  readonly max_event_loop_utilization: number;
  /** 0: not a limit. */
  readonly max_heap_used_bytes: number;
  readonly sample_interval_ms: number;
}

export const PRESSURE_NAMES = {
  eventLoopDelay: 'event-loop delay',
  heapUsedBytes: 'heap in use',
} as const;

export interface PressureSample {
  readonly pressure: Pressure;
  /** The limit to name in a refusal; absent when no limit was reached. */
  readonly name?: string;
}

/** How often the heartbeat beats: the resolution under-pressure's own histogram uses. */
const HEARTBEAT_MS = 10;

export class LoopPressure {
  private lastBeatAt = performance.now();
  private latenessSum = 0;
  private beats = 0;
  private readonly heartbeat: NodeJS.Timeout;
  private utilizationSince: EventLoopUtilization = performance.eventLoopUtilization();

  constructor(
    private readonly app: Pick<FastifyInstance, 'memoryUsage'>,
    private readonly limits: LoopLimits,
  ) {
    this.heartbeat = setInterval(() => this.beat(), HEARTBEAT_MS).unref();
  }

  stop(): void {
    clearInterval(this.heartbeat);
  }

  /** Starts the next readings of utilization and lateness from now. */
  restart(): void {
    this.utilizationSince = performance.eventLoopUtilization();
    this.latenessSum = 0;
    this.beats = 0;
  }

  private beat(): void {
    const now = performance.now();
    this.latenessSum += Math.max(0, now - this.lastBeatAt - HEARTBEAT_MS);
    this.beats += 1;
    this.lastBeatAt = now;
  }

  /**
   * What the process is under now. The loop is over its limits when its delay is over its limit
   * and, unless that limit is 0, its utilization over its own: the delay says requests waited, the
   * utilization that they kept coming. A loop busy all the time with a short delay serves a few
   * clients that send as fast as they are answered, and need not shed; a long delay with idle
   * time left is a burst the loop is already working off. Over one of the two, the share holds:
   * more would soon be too much. A delay limit of 0 never sheds on the loop.
   */
  sample(now: number): PressureSample {
    const { eventLoopDelay, heapUsed } = this.app.memoryUsage();
    const utilization = performance.eventLoopUtilization(this.utilizationSince).utilization;
    const lateness = this.beats === 0 ? 0 : this.latenessSum / this.beats;
    this.restart();
    const { max_event_loop_delay_ms, max_event_loop_utilization, max_heap_used_bytes } = this.limits;
    if (max_heap_used_bytes > 0 && heapUsed > max_heap_used_bytes) return { pressure: 'heap', name: PRESSURE_NAMES.heapUsedBytes };
    // under-pressure reports an infinite delay for an interval its histogram saw no timer in: the
    // loop was blocked that whole interval, which the heartbeat measures.
    const sampledDelay = Number.isFinite(eventLoopDelay) ? eventLoopDelay : 0;
    // A stall shorter than a sample (a collection of the old generation, say) is in the means of the
    // next sample; a longer one is the loop starved of timers by ready connections, which no mean sees.
    const stall = now - this.lastBeatAt - HEARTBEAT_MS;
    const delay = Math.max(sampledDelay, lateness, stall > this.limits.sample_interval_ms ? stall : 0);
    if (max_event_loop_delay_ms === 0) return { pressure: 'none' };
    const late = delay > max_event_loop_delay_ms;
    if (max_event_loop_utilization === 0) return late ? { pressure: 'loop', name: PRESSURE_NAMES.eventLoopDelay } : { pressure: 'none' };
    const busy = utilization > max_event_loop_utilization;
    if (late && busy) return { pressure: 'loop', name: PRESSURE_NAMES.eventLoopDelay };
    return { pressure: late || busy ? 'loop-near' : 'none' };
  }
}

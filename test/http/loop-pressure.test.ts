/**
 * LoopPressure: what a sample finds, taken as a request arrives. These block the event loop and
 * sample at once, before any timer can run, as a loop starved of timers by ready connections is.
 */
import { performance } from 'node:perf_hooks';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { LoopPressure, type LoopLimits } from '../../src/http/loop-pressure.js';

const SAMPLE_INTERVAL_MS = 100;

/** under-pressure's last sample, as the app would report it. */
function appReporting(eventLoopDelay: number, heapUsed = 0): Pick<FastifyInstance, 'memoryUsage'> {
  return { memoryUsage: () => ({ eventLoopDelay, heapUsed, rssBytes: 0, eventLoopUtilized: 0 }) };
}

function busyFor(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

const started: LoopPressure[] = [];
function pressureWith(limits: Partial<LoopLimits>, app = appReporting(0)): LoopPressure {
  const pressure = new LoopPressure(app, { max_event_loop_delay_ms: 25, max_event_loop_utilization: 0.9, max_heap_used_bytes: 0, sample_interval_ms: SAMPLE_INTERVAL_MS, ...limits });
  started.push(pressure);
  pressure.restart();
  return pressure;
}

afterEach(() => {
  for (const pressure of started.splice(0)) pressure.stop();
});

describe('LoopPressure', () => {
  it('finds the loop over its limits while it is stalled longer than a sample and busy, however stale under-pressure is', () => {
    const pressure = pressureWith({});
    busyFor(3 * SAMPLE_INTERVAL_MS);
    expect(pressure.sample(performance.now())).toStrictEqual({ pressure: 'loop', name: 'event-loop delay' });
  });

  it('leaves a stall shorter than a sample to the means of the next one: busy, not late, the share holds', () => {
    const pressure = pressureWith({});
    busyFor(SAMPLE_INTERVAL_MS / 2);
    expect(pressure.sample(performance.now())).toStrictEqual({ pressure: 'loop-near' });
  });

  it('takes the delay alone when the utilization limit is 0', () => {
    const pressure = pressureWith({ max_event_loop_utilization: 0 });
    busyFor(3 * SAMPLE_INTERVAL_MS);
    expect(pressure.sample(performance.now())).toStrictEqual({ pressure: 'loop', name: 'event-loop delay' });
  });

  it('never finds the loop over its limits when the delay limit is 0', () => {
    const pressure = pressureWith({ max_event_loop_delay_ms: 0 });
    busyFor(3 * SAMPLE_INTERVAL_MS);
    expect(pressure.sample(performance.now())).toStrictEqual({ pressure: 'none' });
  });

  it("counts under-pressure's delay, and ignores the infinite one it reports for an interval it saw no timer in", async () => {
    const late = pressureWith({ max_event_loop_utilization: 0 }, appReporting(40));
    expect(late.sample(performance.now())).toStrictEqual({ pressure: 'loop', name: 'event-loop delay' });
    const unseen = pressureWith({ max_event_loop_utilization: 0 }, appReporting(Infinity));
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(unseen.sample(performance.now())).toStrictEqual({ pressure: 'none' });
  });

  it('finds the heap first, whatever the loop does', () => {
    const pressure = pressureWith({ max_heap_used_bytes: 1000 }, appReporting(0, 1001));
    expect(pressure.sample(performance.now())).toStrictEqual({ pressure: 'heap', name: 'heap in use' });
  });

  it('finds nothing on an idle loop', async () => {
    const pressure = pressureWith({});
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(pressure.sample(performance.now())).toStrictEqual({ pressure: 'none' });
  });
});

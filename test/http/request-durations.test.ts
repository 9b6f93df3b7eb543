/** RequestDurations: the same Prometheus text as prom-client's own Histogram for the same observations. */
import fc from 'fast-check';
import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { DURATION_BUCKET_BOUNDS_S, RequestDurations } from '../../src/http/request-durations.js';

const NAME = 'divy_http_request_duration_seconds';
const HELP = 'Time from receiving a request to answering it, by route pattern and status code.';

interface Observation {
  readonly route: string;
  readonly status_code: number;
  readonly seconds: number;
}

/** The text of both registries after the same observations, in the same order. */
async function textsAfter(observations: readonly Observation[]): Promise<{ ours: string; prom_client: string }> {
  const ourRegistry = new Registry();
  const durations = new RequestDurations({ name: NAME, help: HELP, registry: ourRegistry });
  const theirRegistry = new Registry();
  const histogram = new Histogram({ name: NAME, help: HELP, labelNames: ['route', 'status_code'], registers: [theirRegistry] });
  for (const { route, status_code, seconds } of observations) {
    durations.observe(route, status_code, seconds);
    histogram.observe({ route, status_code }, seconds);
  }
  return { ours: await ourRegistry.metrics(), prom_client: await theirRegistry.metrics() };
}

const observation = fc.record({
  route: fc.constantFrom('/quote', '/realtime-delta', '/policy/:version', 'unmatched'),
  status_code: fc.constantFrom(200, 204, 400, 404, 422, 503),
  seconds: fc.oneof(fc.constantFrom(...DURATION_BUCKET_BOUNDS_S, 0, -0), fc.double({ min: -1, max: 100, noNaN: true }), fc.double({ noNaN: true, noDefaultInfinity: true })),
});

describe('RequestDurations', () => {
  it('writes what prom-client writes for the same observations', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(observation, { maxLength: 60 }), async (observations) => {
        const { ours, prom_client } = await textsAfter(observations);
        expect(ours).toBe(prom_client);
      }),
      { numRuns: 300 },
    );
  });

  it('counts a duration in every bucket from the first bound it is within, cumulatively', async () => {
    const { ours, prom_client } = await textsAfter([
      { route: '/quote', status_code: 200, seconds: 0.003 },
      { route: '/quote', status_code: 200, seconds: 0.01 },
      { route: '/quote', status_code: 200, seconds: 11 },
    ]);
    expect(ours).toBe(prom_client);
    const line = (le: string) => ours.split('\n').find((text) => text.startsWith(`${NAME}_bucket{le="${le}",route="/quote",status_code="200"}`));
    expect(line('0.005')).toBe(`${NAME}_bucket{le="0.005",route="/quote",status_code="200"} 1`);
    expect(line('0.01')).toBe(`${NAME}_bucket{le="0.01",route="/quote",status_code="200"} 2`);
    expect(line('10')).toBe(`${NAME}_bucket{le="10",route="/quote",status_code="200"} 2`);
    expect(line('+Inf')).toBe(`${NAME}_bucket{le="+Inf",route="/quote",status_code="200"} 3`);
  });

  it('refuses a duration that is not finite, as prom-client does', () => {
    const durations = new RequestDurations({ name: NAME, help: HELP, registry: new Registry() });
    expect(() => durations.observe('/quote', 200, Number.NaN)).toThrow(TypeError);
    expect(() => durations.observe('/quote', 200, Number.POSITIVE_INFINITY)).toThrow(TypeError);
  });

  it('starts over on reset, as the registry resets its metrics', async () => {
    const registry = new Registry();
    const durations = new RequestDurations({ name: NAME, help: HELP, registry });
    durations.observe('/quote', 200, 0.001);
    registry.resetMetrics();
    expect(await registry.metrics()).toBe((await textsAfter([])).prom_client);
  });
});

/** The mixed traffic of the soak and overload runs: the requests a service of many jobs sees. */
import { batchRing, contributionRing, deltaRing, emptyDeltaRing, mix, quoteRing, settleRing, type RingEntry } from './bodies.js';

const RING = 64;

/**
 * Per 40 requests: 12 quotes, 10 deltas of 8 workers and 5 of 64, 2 deltas with nothing new (a
 * 204 by design), 5 settlements and 5 contributions of 8 workers, and one batch of 10 updates.
 */
export function mixedTraffic(rounds: number): RingEntry[] {
  return mix(
    [
      { kind: 'quote', ring: quoteRing(RING), weight: 12 },
      { kind: 'delta, 8 workers', ring: deltaRing(8, RING), weight: 10 },
      { kind: 'delta, 64 workers', ring: deltaRing(64, RING), weight: 5 },
      { kind: 'delta, nothing new (204)', ring: emptyDeltaRing(RING), weight: 2 },
      { kind: 'settle, 8 workers', ring: settleRing(8, RING), weight: 5 },
      { kind: 'contribution, 8 workers', ring: contributionRing(8, RING), weight: 5 },
      { kind: 'batch, 10 updates of 8 workers', ring: batchRing(10, 8, RING), weight: 1 },
    ],
    rounds,
  );
}

/** Small requests only: quotes and 8-worker deltas, half each. */
export function smallTraffic(rounds: number): RingEntry[] {
  return mix(
    [
      { kind: 'quote', ring: quoteRing(RING), weight: 1 },
      { kind: 'delta, 8 workers', ring: deltaRing(8, RING), weight: 1 },
    ],
    rounds,
  );
}

/** Deltas of 64 workers only: requests whose own work, not the HTTP exchange, sets the capacity. */
export function workerHeavyTraffic(rounds: number): RingEntry[] {
  return mix([{ kind: 'delta, 64 workers', ring: deltaRing(64, RING), weight: 1 }], rounds);
}

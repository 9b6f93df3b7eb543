/**
 * Rings of request bodies for the HTTP benchmarks: seeded and distinct, so every request of a run
 * prices another job (see jobs.ts), and serialized once, so the load generator only sends bytes.
 */
import { deltaInput, quoteInput } from '../jobs.js';

export interface BodyRing {
  readonly path: string;
  readonly bodies: readonly string[];
}

/** One request of a mix: what it is, where it goes, its body. */
export interface RingEntry {
  readonly kind: string;
  readonly path: string;
  readonly body: string;
}

export function entriesOf(ring: BodyRing, kind: string = ring.path): RingEntry[] {
  return ring.bodies.map((body) => ({ kind, path: ring.path, body }));
}

/**
 * Interleaves the rings by weight: per round, `weight` entries of each ring in turn, until
 * `rounds` rounds are laid out. A ring shorter than its share is taken again from its start.
 */
export function mix(parts: ReadonlyArray<{ readonly kind: string; readonly ring: BodyRing; readonly weight: number }>, rounds: number): RingEntry[] {
  const taken = parts.map(() => 0);
  const entries: RingEntry[] = [];
  for (let round = 0; round < rounds; round += 1) {
    for (const [index, { kind, ring, weight }] of parts.entries()) {
      for (let step = 0; step < weight; step += 1) {
        entries.push({ kind, path: ring.path, body: ring.bodies[taken[index]! % ring.bodies.length]! });
        taken[index]! += 1;
      }
    }
  }
  return entries;
}

export function quoteRing(size: number): BodyRing {
  return { path: '/quote', bodies: Array.from({ length: size }, (_, turn) => JSON.stringify(quoteInput(turn))) };
}

export function deltaRing(workers: number, size: number): BodyRing {
  return { path: '/realtime-delta', bodies: Array.from({ length: size }, (_, turn) => JSON.stringify(deltaInput(workers, turn))) };
}

/** A delta whose frontier is already accounted: the service answers 204 by design. */
export function emptyDeltaRing(size: number): BodyRing {
  const bodies = Array.from({ length: size }, (_, turn) => {
    const input = deltaInput(8, turn);
    return JSON.stringify({ ...input, accounted_completion_tokens: input.frontier_completion_tokens });
  });
  return { path: '/realtime-delta', bodies };
}

/** Batches of `updates` distinct 8-worker deltas, each update of the ring distinct. */
export function batchRing(updates: number, workers: number, size: number): BodyRing {
  const bodies = Array.from({ length: size }, (_, batch) =>
    JSON.stringify({ updates: Array.from({ length: updates }, (_, index) => deltaInput(workers, batch * updates + index)) }),
  );
  return { path: '/realtime-delta/batch', bodies };
}

/** Settlements of a reserved, partly streamed job, with ledger postings. */
export function settleRing(workers: number, size: number): BodyRing {
  const bodies = Array.from({ length: size }, (_, turn) => {
    const delta = deltaInput(workers, turn);
    return JSON.stringify({
      prompt_tokens: delta.prompt_tokens,
      actual_completion_tokens: 180 + turn,
      total_model_bytes: delta.total_model_bytes,
      reserved_completion_tokens: 1024,
      accounted_completion_tokens: 160,
      prompt_credits_accounted: true,
      total_columns: delta.total_columns,
      assignments: delta.assignments,
      job_id: `soak-job-${turn}`,
    });
  });
  return { path: '/settle', bodies };
}

export function contributionRing(workers: number, size: number): BodyRing {
  const bodies = Array.from({ length: size }, (_, turn) => {
    const delta = deltaInput(workers, turn);
    return JSON.stringify({
      prompt_tokens: delta.prompt_tokens,
      completion_tokens: 100 + turn,
      total_model_bytes: delta.total_model_bytes,
      total_columns: delta.total_columns,
      assignments: delta.assignments,
    });
  });
  return { path: '/contribution', bodies };
}

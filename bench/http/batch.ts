/**
 * POST /realtime-delta/batch against POST /realtime-delta over real HTTP: the server's time per
 * update inside a batch of UPDATES_PER_BATCH and alone, from closed-loop throughput with the
 * server pinned to one core, in alternating rounds. Both send the same distinct 8-worker updates.
 * The fair floor answers the same batches in the same rounds: it parses each and writes Divy's
 * answer with JSON.stringify, the least any server does for a batch whose answer is the same.
 */
import { BATCH_WORKERS, UPDATES_PER_BATCH } from '../batch.js';
import { deltaInput } from '../jobs.js';
import type { BodyRing } from './bodies.js';
import { batchRing } from './bodies.js';
import { closedLoop } from './closed-loop.js';
import { checkFloor } from './fair-floor.js';
import { postJson, type ServerProcess } from './servers.js';
import { median } from './stats.js';

const BATCHES = 8;

export interface HttpBatchFigure {
  readonly updates_per_batch: number;
  readonly workers: number;
  readonly single_us: number;
  readonly batch_us: number;
  readonly per_update_us: number;
  /** Median over rounds of per_update_us / single_us. */
  readonly ratio: number;
  /** The fair floor's time per batch, and per update. */
  readonly floor_batch_us: number;
  readonly floor_per_update_us: number;
  /** Median over rounds of the floor's per-update time / Divy's single call: the least the ratio above can be. */
  readonly floor_ratio: number;
}

/** The batches of the bench, of which the fair floor keeps Divy's answers (fair-floor.ts). */
export function benchBatches(): BodyRing {
  return batchRing(UPDATES_PER_BATCH, BATCH_WORKERS, BATCHES);
}

export async function benchHttpBatch(divy: ServerProcess, floor: ServerProcess, rounds: number, seconds: number): Promise<HttpBatchFigure> {
  process.stderr.write(`batch over HTTP: ${UPDATES_PER_BATCH} updates of ${BATCH_WORKERS} workers against single calls and the fair floor, ${rounds} rounds\n`);
  const batches = benchBatches();
  const singles: BodyRing = {
    path: '/realtime-delta',
    bodies: Array.from({ length: BATCHES * UPDATES_PER_BATCH }, (_, index) => JSON.stringify(deltaInput(BATCH_WORKERS, index))),
  };
  // Every update of a batch must be accounted, not refused: the batch is not measured doing less.
  const answer = await postJson(divy.origin, batches.path, batches.bodies[0]!);
  const results = (JSON.parse(answer.text) as { results: Array<{ status: number }> }).results;
  if (answer.status !== 200 || results.length !== UPDATES_PER_BATCH || results.some((result) => result.status !== 200)) {
    throw new Error(`/realtime-delta/batch answered ${answer.status} with results other than ${UPDATES_PER_BATCH} deltas`);
  }
  await checkFloor(divy, floor, batches);
  const single = () => closedLoop(divy.origin, singles, { connections: 8, seconds });
  const batch = () => closedLoop(divy.origin, batches, { connections: 2, seconds });
  const floorBatch = () => closedLoop(floor.origin, batches, { connections: 2, seconds });
  await closedLoop(divy.origin, singles, { connections: 8, seconds: 1 });
  await closedLoop(divy.origin, batches, { connections: 2, seconds: 1 });
  await closedLoop(floor.origin, batches, { connections: 2, seconds: 1 });
  const singleUs: number[] = [];
  const batchUs: number[] = [];
  const floorUs: number[] = [];
  for (let round = 0; round < rounds; round += 1) {
    for (const [run, into] of [[single, singleUs], [batch, batchUs], [floorBatch, floorUs]] as const) {
      const load = await run();
      if (load.non2xx + load.errors > 0) throw new Error(`batch bench: ${load.non2xx} non-2xx answers, ${load.errors} errors`);
      into.push(1e6 / load.requests_per_sec);
    }
  }
  const ratios = batchUs.map((micros, round) => micros / UPDATES_PER_BATCH / singleUs[round]!);
  const floorRatios = floorUs.map((micros, round) => micros / UPDATES_PER_BATCH / singleUs[round]!);
  return {
    updates_per_batch: UPDATES_PER_BATCH,
    workers: BATCH_WORKERS,
    single_us: median(singleUs),
    batch_us: median(batchUs),
    per_update_us: median(batchUs) / UPDATES_PER_BATCH,
    ratio: median(ratios),
    floor_batch_us: median(floorUs),
    floor_per_update_us: median(floorUs) / UPDATES_PER_BATCH,
    floor_ratio: median(floorRatios),
  };
}

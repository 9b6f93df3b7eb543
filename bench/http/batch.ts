/**
 * POST /realtime-delta/batch against POST /realtime-delta over real HTTP: the server's time per
 * update inside a batch of UPDATES_PER_BATCH and alone, from closed-loop throughput with the
 * server pinned to one core, in alternating rounds. Both send the same distinct 8-worker updates.
 */
import { BATCH_WORKERS, UPDATES_PER_BATCH } from '../batch.js';
import { deltaInput } from '../jobs.js';
import type { BodyRing } from './bodies.js';
import { batchRing } from './bodies.js';
import { closedLoop } from './closed-loop.js';
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
}

export async function benchHttpBatch(divy: ServerProcess, rounds: number, seconds: number): Promise<HttpBatchFigure> {
  process.stderr.write(`batch over HTTP: ${UPDATES_PER_BATCH} updates of ${BATCH_WORKERS} workers against single calls, ${rounds} rounds\n`);
  const batches = batchRing(UPDATES_PER_BATCH, BATCH_WORKERS, BATCHES);
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
  const single = () => closedLoop(divy.origin, singles, { connections: 8, seconds });
  const batch = () => closedLoop(divy.origin, batches, { connections: 2, seconds });
  await closedLoop(divy.origin, singles, { connections: 8, seconds: 1 });
  await closedLoop(divy.origin, batches, { connections: 2, seconds: 1 });
  const singleUs: number[] = [];
  const batchUs: number[] = [];
  for (let round = 0; round < rounds; round += 1) {
    for (const [run, into] of [[single, singleUs], [batch, batchUs]] as const) {
      const load = await run();
      if (load.non2xx + load.errors > 0) throw new Error(`batch bench: ${load.non2xx} non-2xx answers, ${load.errors} errors`);
      into.push(1e6 / load.requests_per_sec);
    }
  }
  const ratios = batchUs.map((micros, round) => micros / UPDATES_PER_BATCH / singleUs[round]!);
  return {
    updates_per_batch: UPDATES_PER_BATCH,
    workers: BATCH_WORKERS,
    single_us: median(singleUs),
    batch_us: median(batchUs),
    per_update_us: median(batchUs) / UPDATES_PER_BATCH,
    ratio: median(ratios),
  };
}

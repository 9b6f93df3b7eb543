/**
 * POST /realtime-delta/batch against POST /realtime-delta: what one update costs inside a batch
 * of UPDATES_PER_BATCH, and alone. Both take the same BATCHES_IN_TURN x UPDATES_PER_BATCH
 * distinct seeded 8-worker deltas: the singles one by one in turn, the batches in turn. Each is
 * the whole request through the app, as request.ts measures it; what a batch saves is the
 * per-request work (Fastify's routing, hooks, body reading and reply, inject's round trip),
 * while parsing, validation, the policy and serialization stay per update.
 */
import type { FastifyInstance } from 'fastify';
import { computeRealtimeDelta, type PolicySettings } from '../src/policy/index.js';
import { deltaInput, JOBS_IN_TURN } from './jobs.js';
import { watchCpu } from './machine.js';
import { measurePerCallAsync } from './measure.js';

export const UPDATES_PER_BATCH = 100;
export const BATCH_WORKERS = 8;
/** Distinct batches taken in turn, as many as the jobs the other benchmarks take in turn. */
const BATCHES_IN_TURN = JOBS_IN_TURN;

/** Microseconds. */
export interface BatchFigure {
  readonly updates_per_batch: number;
  readonly workers: number;
  /** One update sent alone to POST /realtime-delta. */
  readonly single_us: number;
  /** One whole batch. */
  readonly batch_us: number;
  /** batch_us / updates_per_batch. */
  readonly per_update_us: number;
  readonly batch_request_bytes: number;
  /** CPU that other processes took while these figures were measured, in cores; null off Linux. */
  readonly others_cpu: number | null;
}

export async function benchBatch(app: FastifyInstance, settings: PolicySettings): Promise<BatchFigure> {
  process.stderr.write(`POST /realtime-delta/batch, ${UPDATES_PER_BATCH} updates of ${BATCH_WORKERS} workers, against single calls\n`);
  const batches = Array.from({ length: BATCHES_IN_TURN }, (_, batch) =>
    Array.from({ length: UPDATES_PER_BATCH }, (_, index) => deltaInput(BATCH_WORKERS, batch * UPDATES_PER_BATCH + index)),
  );
  const updates = batches.flat();
  const singleBodies = updates.map((update) => JSON.stringify(update));
  const batchBodies = batches.map((batch) => JSON.stringify({ updates: batch }));

  // Both must answer what the policy computes, every update a delta: the batch is not
  // measured refusing what the singles account.
  const deltas = updates.map((update) => JSON.stringify(computeRealtimeDelta(update, settings) ?? fail('a benchmark update has nothing to account')));
  for (const [index, body] of singleBodies.entries()) {
    const response = await post(app, '/realtime-delta', body);
    if (response.statusCode !== 200 || response.payload !== deltas[index]) fail(`/realtime-delta answered ${response.statusCode} other than the policy computes`);
  }
  for (const [batch, body] of batchBodies.entries()) {
    const response = await post(app, '/realtime-delta/batch', body);
    const expected = `{"results":[${deltas.slice(batch * UPDATES_PER_BATCH, (batch + 1) * UPDATES_PER_BATCH).map((delta) => `{"status":200,"delta":${delta}}`).join(',')}]}`;
    if (response.statusCode !== 200 || response.payload !== expected) fail(`/realtime-delta/batch answered ${response.statusCode}: ${response.payload.slice(0, 500)}`);
  }

  const watch = watchCpu();
  const single_us = (await measurePerCallAsync(inTurn(app, '/realtime-delta', singleBodies), singleBodies.length)) * 1e6;
  const batch_us = (await measurePerCallAsync(inTurn(app, '/realtime-delta/batch', batchBodies), batchBodies.length)) * 1e6;
  return {
    updates_per_batch: UPDATES_PER_BATCH,
    workers: BATCH_WORKERS,
    single_us,
    batch_us,
    per_update_us: batch_us / UPDATES_PER_BATCH,
    batch_request_bytes: batchBodies.reduce((sum, body) => sum + Buffer.byteLength(body), 0) / batchBodies.length,
    others_cpu: watch.othersShare(),
  };
}

/** Posts `bodies` one per call, in turn. */
function inTurn(app: FastifyInstance, url: string, bodies: readonly string[]): () => Promise<string> {
  let turn = 0;
  return async () => {
    const body = bodies[turn]!;
    turn = turn + 1 === bodies.length ? 0 : turn + 1;
    return (await post(app, url, body)).payload;
  };
}

function post(app: FastifyInstance, url: string, payload: string) {
  return app.inject({ method: 'POST', url, payload, headers: { 'content-type': 'application/json' } });
}

function fail(message: string): never {
  throw new Error(message);
}

/**
 * The writers of the accounting answers (src/http/answer-writers.ts) against JSON.stringify:
 * realtime deltas of each worker count, and a batch of UPDATES_PER_BATCH 8-worker deltas, each
 * over JOBS_IN_TURN distinct seeded answers taken in turn. Both write the same text (checked
 * first); each call is timed up to the text's byte count, as Fastify reads it, since that
 * flattens the pieces a writer returns (a V8 cons string), whichever writer it is.
 */
import { compileAnswerWriters, type AnswerWriter } from '../src/http/answer-writers.js';
import { answerRealtimeDeltaBatch } from '../src/http/realtime-delta-batch.js';
import type { ApiSchemas } from '../src/http/schemas/api.js';
import { computeRealtimeDelta, type PolicyCatalog, type PolicySettings } from '../src/policy/index.js';
import { BATCH_WORKERS, UPDATES_PER_BATCH } from './batch.js';
import { deltaInput, JOBS_IN_TURN } from './jobs.js';
import { watchCpu } from './machine.js';
import { measureSideBySide } from './measure.js';
import { WORKER_COUNTS } from './realtime-delta.js';

/** Microseconds per answer. */
export interface AnswerWriterFigure {
  readonly answer: string;
  readonly answer_bytes: number;
  readonly json_stringify_us: number;
  readonly compiled_writer_us: number;
  /** CPU that other processes took while these figures were measured, in cores; null off Linux. */
  readonly others_cpu: number | null;
}

export async function benchAnswerWriters(catalog: PolicyCatalog, schemas: ApiSchemas, settings: PolicySettings): Promise<AnswerWriterFigure[]> {
  const writers = compileAnswerWriters(schemas);
  const figures: AnswerWriterFigure[] = [];
  for (const workers of WORKER_COUNTS) {
    const deltas = Array.from({ length: JOBS_IN_TURN }, (_, turn) => computeRealtimeDelta(deltaInput(workers, turn), settings));
    figures.push(await compare(`realtime delta, ${workers} workers`, deltas, writers.realtimeDelta));
  }
  const batches = Array.from({ length: JOBS_IN_TURN }, (_, batch) => ({
    results: answerRealtimeDeltaBatch(
      Array.from({ length: UPDATES_PER_BATCH }, (_, index) => deltaInput(BATCH_WORKERS, batch * UPDATES_PER_BATCH + index)),
      { catalog, request: schemas.realtimeDelta.realtimeDeltaRequest, max_updates: schemas.realtimeDeltaBatch.max_updates, request_id: 'bench' },
    ),
  }));
  figures.push(await compare(`batch, ${UPDATES_PER_BATCH} deltas of ${BATCH_WORKERS} workers`, batches, writers.realtimeDeltaBatch));
  return figures;
}

async function compare(answer: string, answers: readonly unknown[], write: AnswerWriter): Promise<AnswerWriterFigure> {
  process.stderr.write(`answer writers: ${answer}\n`);
  for (const value of answers) {
    if (value === null) throw new Error(`${answer}: a benchmark job has nothing to account`);
    if (write(value) !== JSON.stringify(value)) throw new Error(`${answer}: the compiled writer wrote other than JSON.stringify`);
  }
  let turn = 0;
  const next = (): unknown => answers[(turn = turn + 1 === answers.length ? 0 : turn + 1)];
  const watch = watchCpu();
  const [json_stringify_us, compiled_writer_us] = (
    await measureSideBySide([{ sync: () => Buffer.byteLength(JSON.stringify(next())) }, { sync: () => Buffer.byteLength(write(next())) }], answers.length)
  ).map((seconds) => seconds * 1e6) as [number, number];
  const answer_bytes = answers.reduce<number>((sum, value) => sum + Buffer.byteLength(JSON.stringify(value)), 0) / answers.length;
  return { answer, answer_bytes, json_stringify_us, compiled_writer_us, others_cpu: watch.othersShare() };
}

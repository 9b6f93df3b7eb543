/**
 * The entry of an offload worker thread (piscina): builds the app's schemas from the same
 * catalog, once, then answers each task. Loaded from its TypeScript source under tsx, from
 * dist/ once built.
 */
import { workerData } from 'node:worker_threads';
import Fastify from 'fastify';
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { jsonTextParserOf } from '../json-body.js';
import { apiSchemas } from '../schemas/api.js';
import { answerTask, offloadedAnswerers } from './answer-task.js';
import type { OffloadOutcome, OffloadTask, OffloadWorkerData } from './task.js';

const { catalog, batch_max_updates } = workerData as OffloadWorkerData;
const answerers = offloadedAnswerers(catalog, apiSchemas(catalog, batch_max_updates));
// An app that never listens, only for its JSON parser: the same one the main thread's app uses.
const parseJson = jsonTextParserOf(Fastify());

/** The outcome, with the bytes of a 200 moved to the main thread rather than copied. */
export default function answerOffloadTask(task: OffloadTask): OffloadOutcome | ReturnType<typeof move> {
  const outcome = answerTask(task, answerers, parseJson);
  if (!('bytes' in outcome)) return outcome;
  return move({ [transferableSymbol]: outcome.bytes.buffer, [valueSymbol]: outcome });
}

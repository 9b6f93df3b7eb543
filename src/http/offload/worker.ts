/**
 * The entry of an offload worker thread (piscina): builds the app's schemas from the same
 * catalog, once, then answers each task. Loaded from its TypeScript source under tsx, from
 * dist/ once built.
 */
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { workerData } from 'node:worker_threads';
import Fastify from 'fastify';
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { jsonTextParserOf } from '../json-body.js';
import { apiSchemas } from '../schemas/api.js';
import { answerTask, offloadedAnswerers } from './answer-task.js';
import { OFFLOAD_THREAD_NICE_INCREMENT, type OffloadOutcome, type OffloadTask, type OffloadWorkerData } from './task.js';

const NICE_MAX = 19;

lowerThisThreadsPriority(OFFLOAD_THREAD_NICE_INCREMENT);

/** Linux sets priorities per thread (setpriority on a thread id); elsewhere the thread keeps the process's. */
function lowerThisThreadsPriority(increment: number): void {
  let threadId: number;
  try {
    threadId = Number(readlinkSync('/proc/thread-self').split('/').at(-1));
  } catch {
    return;
  }
  setPriority(threadId, Math.min(NICE_MAX, getPriority(threadId) + increment));
}

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

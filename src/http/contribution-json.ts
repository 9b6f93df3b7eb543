/**
 * Response bodies that carry a contribution, written from its columns a block of workers at a
 * time. Reading `assignments` would build every worker's object at once and keep them all alive
 * until the text is done: for 100000 workers, tens of megabytes that outlive the young
 * generation. Blocks of objects die young, and JSON.stringify, native code, still writes the
 * numbers. The output is exactly what JSON.stringify gives for the whole value, key order
 * included; the tests hold it to that.
 */
import {
  workerCreditColumnsOf,
  workerCreditsOf,
  type Contribution,
  type RealtimeDelta,
  type WorkerCreditColumns,
} from '../policy/index.js';

export function contributionJson(contribution: Contribution): string {
  const columns = workerCreditColumnsOf(contribution);
  if (columns === undefined) return JSON.stringify(contribution);
  return (
    `{"policy_version":${JSON.stringify(contribution.policy_version)}` +
    `,"job_credit_budget":${JSON.stringify(contribution.job_credit_budget)}` +
    `,"assignments":${workerCreditsJson(columns)}}`
  );
}

export function realtimeDeltaJson(delta: RealtimeDelta): string {
  return (
    `{"policy_version":${JSON.stringify(delta.policy_version)}` +
    `,"prompt_tokens_delta":${JSON.stringify(delta.prompt_tokens_delta)}` +
    `,"completion_tokens_delta":${JSON.stringify(delta.completion_tokens_delta)}` +
    `,"frontier_completion_tokens":${JSON.stringify(delta.frontier_completion_tokens)}` +
    `,"contribution":${contributionJson(delta.contribution)}` +
    `,"consumption":${JSON.stringify(delta.consumption)}}`
  );
}

/** Workers per block: enough to amortize each JSON.stringify call, few enough to die young. */
const WORKERS_PER_BLOCK = 1024;

function workerCreditsJson(columns: WorkerCreditColumns): string {
  if (columns.count <= WORKERS_PER_BLOCK) return JSON.stringify(workerCreditsOf(columns));
  const blocks: string[] = [];
  for (let start = 0; start < columns.count; start += WORKERS_PER_BLOCK) {
    const block = JSON.stringify(workerCreditsOf(columns, start, Math.min(columns.count, start + WORKERS_PER_BLOCK)));
    blocks.push(block.slice(1, -1));
  }
  return `[${blocks.join(',')}]`;
}

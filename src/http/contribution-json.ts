/**
 * Response bodies that carry a contribution, written straight from its columns. Going through
 * `assignments` would first build one object per worker (a dozen heap allocations each) only to
 * turn them into text. The output is exactly what JSON.stringify gives for the same value, key
 * order included; the tests hold it to that. Without columns it is JSON.stringify.
 */
import {
  creditsAt,
  workerCreditColumnsOf,
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
    `,"prompt_tokens_delta":${numberJson(delta.prompt_tokens_delta)}` +
    `,"completion_tokens_delta":${numberJson(delta.completion_tokens_delta)}` +
    `,"frontier_completion_tokens":${numberJson(delta.frontier_completion_tokens)}` +
    `,"contribution":${contributionJson(delta.contribution)}` +
    `,"consumption":${JSON.stringify(delta.consumption)}}`
  );
}

function workerCreditsJson(columns: WorkerCreditColumns): string {
  let json = '[';
  for (let index = 0; index < columns.count; index += 1) {
    if (index > 0) json += ',';
    json +=
      `{"worker_id":${JSON.stringify(columns.assignments[index]!.worker_id)}` +
      `,"credits":"${creditsAt(columns, index)}"` +
      `,"compute_share":${numberJson(columns.compute_share[index]!)}` +
      `,"throughput_multiplier":${numberJson(columns.throughput_multiplier[index]!)}` +
      `,"resource_pressure_multiplier":${numberJson(columns.resource_pressure_multiplier[index]!)}` +
      `,"normalized_contribution_share":${numberJson(columns.normalized_contribution_share[index]!)}` +
      `,"measured_service_rate":${numberJson(columns.measured_service_rate[index]!)}` +
      `,"reference_service_rate":${numberJson(columns.reference_service_rate)}` +
      `,"memory_pressure":${numberJson(columns.memory_pressure[index]!)}}`;
  }
  return `${json}]`;
}

/** JSON's rendering of a number: the shortest round-trip form, and null where JSON has no number. */
function numberJson(value: number): string {
  return Number.isFinite(value) ? String(value) : 'null';
}

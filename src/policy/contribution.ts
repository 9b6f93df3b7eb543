import { allocateUnits } from './allocation.js';
import { formatCreditUnits } from './credit-units.js';
import { exactSum } from './exact-sum.js';
import { checkAssignments, checkRequestTokens, checkTotalColumns, RuleCheck } from './input-rules.js';
import { median } from './order-statistics.js';
import { DEFAULT_POLICY_SETTINGS, type PolicySettings } from './parameters.js';
import { creditUnitsForTokens, tokenPrice } from './token-price.js';
import type { Contribution, ContributionInput, WorkerAssignment, WorkerCredit } from './types.js';

/** The part of a job that decides how its credits are split among its workers. */
export interface JobShape {
  readonly total_model_bytes: number;
  readonly total_columns: number;
  readonly assignments: readonly WorkerAssignment[];
}

/** Splits the credits of a whole job, `(prompt + completion) * model_size_factor`, among its workers. */
export function computeContribution(
  input: ContributionInput,
  settings: PolicySettings = DEFAULT_POLICY_SETTINGS,
): Contribution {
  checkContributionInput(input, settings);
  const price = tokenPrice(input.total_model_bytes, settings);
  const budget_units = creditUnitsForTokens(input.prompt_tokens, price) + creditUnitsForTokens(input.completion_tokens, price);
  return splitCredits(budget_units, input, settings);
}

function checkContributionInput(input: ContributionInput, settings: PolicySettings): void {
  const check = new RuleCheck();
  const promptValid = check.tokenCount('/prompt_tokens', input.prompt_tokens);
  const completionValid = check.tokenCount('/completion_tokens', input.completion_tokens);
  if (promptValid && completionValid) {
    const tokens = input.prompt_tokens + input.completion_tokens;
    if (tokens === 0) {
      check.fail('/completion_tokens', 'prompt_tokens + completion_tokens must be at least 1: a job of zero tokens has nothing to split');
    }
    checkRequestTokens(check, '/completion_tokens', 'prompt_tokens + completion_tokens', tokens);
  }
  check.byteCount('/total_model_bytes', input.total_model_bytes);
  const columnsValid = checkTotalColumns(check, input.total_columns);
  checkAssignments(check, input.assignments, columnsValid ? input.total_columns : undefined, settings.max_assignments, true);
  check.conclude();
}

/**
 * Splits exactly `budget_units` among the assignments of a checked job. A worker's weight is
 * its share of the compute units x its throughput against the median worker x its memory
 * pressure; the credits follow the normalized weights and sum exactly to the budget.
 */
export function splitCredits(budget_units: bigint, job: JobShape, settings: PolicySettings): Contribution {
  const { parameters } = settings;
  const { assignments } = job;
  const count = assignments.length;
  const computeUnits = new Float64Array(count);
  const serviceRates = new Float64Array(count);
  const memoryPressures = new Float64Array(count);
  for (let index = 0; index < count; index += 1) {
    const assignment = assignments[index]!;
    const shardFraction = (assignment.shard_column_end - assignment.shard_column_start) / job.total_columns;
    const units = assignment.assigned_capacity_units * shardFraction;
    const executionTimeSecs = Math.max(assignment.execution_time_ms / 1000, parameters.min_execution_time_secs);
    computeUnits[index] = units;
    serviceRates[index] = units / executionTimeSecs;
    memoryPressures[index] = clamp((job.total_model_bytes * shardFraction) / assignment.available_memory_bytes, 0, 1);
  }
  const computeTotal = exactSum(computeUnits);
  const referenceRate = median(serviceRates);
  const computeShares = new Float64Array(count);
  const throughputMultipliers = new Float64Array(count);
  const resourceMultipliers = new Float64Array(count);
  const weights = new Float64Array(count);
  for (let index = 0; index < count; index += 1) {
    computeShares[index] = computeUnits[index]! / computeTotal;
    throughputMultipliers[index] = clamp(
      serviceRates[index]! / referenceRate,
      parameters.throughput_multiplier_min,
      parameters.throughput_multiplier_max,
    );
    resourceMultipliers[index] = parameters.resource_multiplier_base + parameters.resource_multiplier_span * memoryPressures[index]!;
    weights[index] = computeShares[index]! * throughputMultipliers[index]! * resourceMultipliers[index]!;
  }
  const weightTotal = exactSum(weights);
  const credits = allocateUnits(budget_units, weights);
  const scale = settings.credit_scale;
  const workerCredits = new Array<WorkerCredit>(count);
  for (let index = 0; index < count; index += 1) {
    workerCredits[index] = {
      worker_id: assignments[index]!.worker_id,
      credits: formatCreditUnits(credits[index]!, scale),
      compute_share: computeShares[index]!,
      throughput_multiplier: throughputMultipliers[index]!,
      resource_pressure_multiplier: resourceMultipliers[index]!,
      normalized_contribution_share: weights[index]! / weightTotal,
      measured_service_rate: serviceRates[index]!,
      reference_service_rate: referenceRate,
      memory_pressure: memoryPressures[index]!,
    };
  }
  return {
    policy_version: parameters.version,
    job_credit_budget: formatCreditUnits(budget_units, scale),
    assignments: workerCredits,
  };
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(Math.max(value, low), high);
}

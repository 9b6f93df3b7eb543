import { allocateUnits } from './allocation.js';
import { contributionOf } from './contribution-result.js';
import { formatCreditUnits } from './credit-units.js';
import { exactPartials, exactSum, roundPartials } from './exact-sum.js';
import { checkAssignments, checkRequestTokens, checkTotalColumns, RuleCheck } from './input-rules.js';
import { median } from './order-statistics.js';
import { DEFAULT_POLICY_SETTINGS, type PolicyParameters, type PolicySettings } from './parameters.js';
import { creditUnitsForTokens, tokenPrice } from './token-price.js';
import type { Contribution, ContributionInput, WorkerAssignment } from './types.js';
import { allocateDoubleColumns, type DoubleColumns } from './worker-credit-columns.js';

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
  const count = job.assignments.length;
  const columns = allocateDoubleColumns(count);
  measureWorkers(job, parameters, columns);
  const reference_service_rate = median(columns.measured_service_rate);
  weighWorkers(columns, reference_service_rate, parameters);
  // The weights are staged in the share column, which is normalized once they are allocated.
  const weights = columns.normalized_contribution_share;
  const weightPartials = exactPartials(weights);
  const credit_units = allocateUnits(budget_units, weights, weightPartials);
  const weightTotal = roundPartials(weightPartials);
  for (let index = 0; index < count; index += 1) weights[index] = weights[index]! / weightTotal;
  // Spelled out: an object spread here costs more than the rest of a small job.
  return contributionOf(parameters.version, formatCreditUnits(budget_units, settings.credit_scale), {
    count,
    credit_scale: settings.credit_scale,
    assignments: job.assignments,
    credit_units,
    compute_share: columns.compute_share,
    throughput_multiplier: columns.throughput_multiplier,
    resource_pressure_multiplier: columns.resource_pressure_multiplier,
    normalized_contribution_share: weights,
    measured_service_rate: columns.measured_service_rate,
    reference_service_rate,
    memory_pressure: columns.memory_pressure,
  });
}

/** Each worker's compute units (staged in the share column), measured service rate and memory pressure. */
function measureWorkers(job: JobShape, parameters: PolicyParameters, columns: DoubleColumns): void {
  const { assignments } = job;
  const { compute_share: computeUnits, measured_service_rate: serviceRates, memory_pressure: memoryPressures } = columns;
  for (let index = 0; index < assignments.length; index += 1) {
    const assignment = assignments[index]!;
    const shardFraction = (assignment.shard_column_end - assignment.shard_column_start) / job.total_columns;
    const units = assignment.assigned_capacity_units * shardFraction;
    const executionTimeSecs = Math.max(assignment.execution_time_ms / 1000, parameters.min_execution_time_secs);
    computeUnits[index] = units;
    serviceRates[index] = units / executionTimeSecs;
    memoryPressures[index] = clamp((job.total_model_bytes * shardFraction) / assignment.available_memory_bytes, 0, 1);
  }
}

/** Each worker's three factors and their product, the weight (staged in the normalized share column). */
function weighWorkers(columns: DoubleColumns, referenceRate: number, parameters: PolicyParameters): void {
  const { compute_share: computeShares, measured_service_rate: serviceRates, memory_pressure: memoryPressures } = columns;
  const { throughput_multiplier: throughputMultipliers, resource_pressure_multiplier: resourceMultipliers } = columns;
  const weights = columns.normalized_contribution_share;
  const computeTotal = exactSum(computeShares);
  for (let index = 0; index < computeShares.length; index += 1) {
    const computeShare = computeShares[index]! / computeTotal;
    const throughputMultiplier = clamp(serviceRates[index]! / referenceRate, parameters.throughput_multiplier_min, parameters.throughput_multiplier_max);
    const resourceMultiplier = parameters.resource_multiplier_base + parameters.resource_multiplier_span * memoryPressures[index]!;
    computeShares[index] = computeShare;
    throughputMultipliers[index] = throughputMultiplier;
    resourceMultipliers[index] = resourceMultiplier;
    weights[index] = computeShare * throughputMultiplier * resourceMultiplier;
  }
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(Math.max(value, low), high);
}

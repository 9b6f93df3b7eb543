import { allocateUnits } from './allocation.js';
import { formatCreditUnits } from './credit-units.js';
import { exactPartials, exactSum, roundPartials } from './exact-sum.js';
import { checkAssignments, checkRequestTokens, checkTotalColumns, RuleCheck } from './input-rules.js';
import { median } from './median.js';
import { DEFAULT_POLICY_SETTINGS, type PolicySettings } from './parameters.js';
import { creditUnitsForTokens, tokenPrice } from './token-price.js';
import type { Contribution, ContributionInput, WorkerAssignment, WorkerCredit } from './types.js';
import {
  computeUnits,
  measuredServiceRate,
  memoryPressure,
  referenceServiceRate,
  resourcePressureMultiplier,
  shardFraction,
  throughputMultiplier,
} from './worker-factors.js';

/** The part of a job that decides how its credits are split among its workers. */
export interface JobShape {
  readonly total_model_bytes: number;
  readonly total_columns: number;
  readonly assignments: readonly WorkerAssignment[];
}

/** Splits the credits of a whole job, `(prompt + completion) * model_size_factor`, among its workers. */
export function computeContribution(input: ContributionInput, settings: PolicySettings = DEFAULT_POLICY_SETTINGS): Contribution {
  checkContributionInput(input, settings);
  const price = tokenPrice(input.total_model_bytes, settings);
  const budget_units = creditUnitsForTokens(input.prompt_tokens, price) + creditUnitsForTokens(input.completion_tokens, price);
  return splitCredits(budget_units, input, settings);
}

function checkContributionInput(input: ContributionInput, settings: PolicySettings): void {
  const check = new RuleCheck();
  const promptValid = check.field('/prompt_tokens', input.prompt_tokens, 'prompt_tokens');
  const completionValid = check.field('/completion_tokens', input.completion_tokens, 'completion_tokens');
  if (promptValid && completionValid) {
    const tokens = input.prompt_tokens + input.completion_tokens;
    if (tokens === 0) {
      check.fail('/completion_tokens', 'prompt_tokens + completion_tokens must be at least 1: a job of zero tokens has nothing to split');
    }
    checkRequestTokens(check, '/completion_tokens', 'prompt_tokens + completion_tokens', tokens);
  }
  check.field('/total_model_bytes', input.total_model_bytes, 'total_model_bytes');
  const columnsValid = checkTotalColumns(check, input.total_columns);
  checkAssignments(check, input.assignments, columnsValid ? input.total_columns : undefined, settings.max_assignments, true);
  check.conclude();
}

/**
 * Splits exactly `budget_units` among the assignments of a checked job. A worker's weight is
 * its share of the compute units x its throughput against the median worker x its memory
 * pressure; the credits follow the normalized weights and sum exactly to the budget.
 *
 * The factors are kept in one list of numbers each, and each worker's answer is built once, at
 * the end, with its factors computed again by the same functions (so to the same bits). An
 * object per worker per step made an 8-worker call allocate 8.4 kB, most of it garbage, and in
 * the server the call cost about 19 us of a 92 us request (BENCHMARKS.md).
 */
export function splitCredits(budget_units: bigint, job: JobShape, settings: PolicySettings): Contribution {
  const { parameters, credit_scale } = settings;
  const { assignments, total_columns, total_model_bytes } = job;
  const count = assignments.length;
  const computeUnitsOf: number[] = [];
  const serviceRates: number[] = [];
  const memoryPressures: number[] = [];
  for (let index = 0; index < count; index += 1) {
    const assignment = assignments[index]!;
    const fraction = shardFraction(assignment, total_columns);
    const compute_units = computeUnits(assignment, fraction);
    computeUnitsOf.push(compute_units);
    serviceRates.push(measuredServiceRate(assignment, compute_units, parameters));
    memoryPressures.push(memoryPressure(assignment, total_model_bytes, fraction));
  }
  // Correctly rounded sums do not depend on the order of the workers.
  const computeTotal = exactSum(computeUnitsOf);
  const reference_service_rate = referenceServiceRate(median(serviceRates), parameters);
  const weights: number[] = [];
  for (let index = 0; index < count; index += 1) {
    weights.push(
      (computeUnitsOf[index]! / computeTotal) *
        throughputMultiplier(serviceRates[index]!, reference_service_rate, parameters) *
        resourcePressureMultiplier(memoryPressures[index]!, parameters),
    );
  }
  const weightPartials = exactPartials(weights);
  const weightTotal = roundPartials(weightPartials);
  const creditUnits = allocateUnits(budget_units, weights, weightPartials);
  const workers: WorkerCredit[] = [];
  for (let index = 0; index < count; index += 1) {
    const measured_service_rate = serviceRates[index]!;
    const memory_pressure = memoryPressures[index]!;
    workers.push({
      worker_id: assignments[index]!.worker_id,
      credits: formatCreditUnits(creditUnits[index]!, credit_scale),
      compute_share: computeUnitsOf[index]! / computeTotal,
      throughput_multiplier: throughputMultiplier(measured_service_rate, reference_service_rate, parameters),
      resource_pressure_multiplier: resourcePressureMultiplier(memory_pressure, parameters),
      normalized_contribution_share: weights[index]! / weightTotal,
      measured_service_rate,
      reference_service_rate,
      memory_pressure,
    });
  }
  return { policy_version: parameters.version, job_credit_budget: formatCreditUnits(budget_units, credit_scale), assignments: workers };
}

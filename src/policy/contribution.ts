import { allocateUnits } from './allocation.js';
import { formatCreditUnits } from './credit-units.js';
import { exactPartials, exactSum, roundPartials } from './exact-sum.js';
import { checkAssignments, checkRequestTokens, checkTotalColumns, RuleCheck } from './input-rules.js';
import { median } from './median.js';
import { DEFAULT_POLICY_SETTINGS, type PolicyParameters, type PolicySettings } from './parameters.js';
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

/** A worker's measurements: what it was given and how fast it ran. */
interface Measured {
  readonly compute_units: number;
  readonly measured_service_rate: number;
  readonly memory_pressure: number;
}

function measure(assignment: WorkerAssignment, job: JobShape, parameters: PolicyParameters): Measured {
  const fraction = shardFraction(assignment, job.total_columns);
  const compute_units = computeUnits(assignment, fraction);
  return {
    compute_units,
    measured_service_rate: measuredServiceRate(assignment, compute_units, parameters),
    memory_pressure: memoryPressure(assignment, job.total_model_bytes, fraction),
  };
}

/**
 * Splits exactly `budget_units` among the assignments of a checked job. A worker's weight is
 * its share of the compute units x its throughput against the median worker x its memory
 * pressure; the credits follow the normalized weights and sum exactly to the budget.
 */
export function splitCredits(budget_units: bigint, job: JobShape, settings: PolicySettings): Contribution {
  const { parameters, credit_scale } = settings;
  const measured = job.assignments.map((assignment) => measure(assignment, job, parameters));
  // Correctly rounded sums do not depend on the order of the workers.
  const computeTotal = exactSum(measured.map((worker) => worker.compute_units));
  const reference_service_rate = referenceServiceRate(median(measured.map((worker) => worker.measured_service_rate)), parameters);
  const factors = measured.map((worker) => ({
    compute_share: worker.compute_units / computeTotal,
    throughput_multiplier: throughputMultiplier(worker.measured_service_rate, reference_service_rate, parameters),
    resource_pressure_multiplier: resourcePressureMultiplier(worker.memory_pressure, parameters),
  }));
  const weights = factors.map((factor) => factor.compute_share * factor.throughput_multiplier * factor.resource_pressure_multiplier);
  const weightPartials = exactPartials(weights);
  const weightTotal = roundPartials(weightPartials);
  const creditUnits = allocateUnits(budget_units, weights, weightPartials);
  const assignments = job.assignments.map(
    (assignment, index): WorkerCredit => ({
      worker_id: assignment.worker_id,
      credits: formatCreditUnits(creditUnits[index]!, credit_scale),
      compute_share: factors[index]!.compute_share,
      throughput_multiplier: factors[index]!.throughput_multiplier,
      resource_pressure_multiplier: factors[index]!.resource_pressure_multiplier,
      normalized_contribution_share: weights[index]! / weightTotal,
      measured_service_rate: measured[index]!.measured_service_rate,
      reference_service_rate,
      memory_pressure: measured[index]!.memory_pressure,
    }),
  );
  return { policy_version: parameters.version, job_credit_budget: formatCreditUnits(budget_units, credit_scale), assignments };
}

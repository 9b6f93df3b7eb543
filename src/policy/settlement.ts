/**
 * Settles a finished job: prices what it consumed and, against its reservation, reconciles only
 * the difference. The stream already burned `streamed`; the settlement burns the final delta and
 * releases what was reserved and not used:
 *
 *   streamed + final_delta = total,   total + release = reserved,   exactly, in credit units.
 */
import { checkJobTokens, consumptionOf } from './consumption.js';
import { splitCredits } from './contribution.js';
import { formatCreditUnits } from './credit-units.js';
import { PolicyInputError, ReservationExceededError } from './errors.js';
import { checkAssignments, checkJobId, checkReserved, checkTotalColumns, RuleCheck } from './input-rules.js';
import { deltaIdOf, payoutPostings, releasePosting } from './job-ledger.js';
import { DEFAULT_POLICY_SETTINGS, type PolicySettings } from './parameters.js';
import { creditUnitsForTokens, tokenPrice } from './token-price.js';
import type { Contribution, Posting, Reconciliation, SettleInput, Settlement } from './types.js';

export function settleConsumption(input: SettleInput, settings: PolicySettings = DEFAULT_POLICY_SETTINGS): Settlement {
  checkSettleInput(input, settings);
  const reserved = input.reserved_completion_tokens;
  if (reserved !== undefined && input.actual_completion_tokens > reserved) {
    throw new ReservationExceededError('/actual_completion_tokens', reserved, input.actual_completion_tokens - reserved);
  }
  const price = tokenPrice(input.total_model_bytes, settings);
  const promptUnits = creditUnitsForTokens(input.prompt_tokens, price);
  const completionUnits = creditUnitsForTokens(input.actual_completion_tokens, price);
  const totalUnits = promptUnits + completionUnits;
  const promptStreamed = input.prompt_credits_accounted ?? false;
  const accounted = input.accounted_completion_tokens ?? 0;
  const finalDeltaUnits = totalUnits - (promptStreamed ? promptUnits : 0n) - creditUnitsForTokens(accounted, price);
  const scale = settings.credit_scale;
  const releaseUnits = reserved === undefined ? undefined : promptUnits + creditUnitsForTokens(reserved, price) - totalUnits;
  let reconciliation: Reconciliation | undefined;
  if (releaseUnits !== undefined) {
    reconciliation = {
      reserved_credits: formatCreditUnits(totalUnits + releaseUnits, scale),
      streamed_credits: formatCreditUnits(totalUnits - finalDeltaUnits, scale),
      final_delta_credits: formatCreditUnits(finalDeltaUnits, scale),
      release_credits: formatCreditUnits(releaseUnits, scale),
    };
  }
  const contribution = finalDeltaContribution(input, finalDeltaUnits, reconciliation !== undefined, settings);
  const settlement: Settlement = {
    ...consumptionOf(price, promptUnits, completionUnits, settings),
    ...(reconciliation === undefined ? {} : { reconciliation }),
    ...(contribution === undefined ? {} : { contribution }),
  };
  if (input.job_id === undefined) return settlement;
  const delta_id = deltaIdOf({
    job_id: input.job_id,
    policy_version: settings.parameters.version,
    prompt_credits_accounted: promptStreamed,
    accounted_completion_tokens: accounted,
    frontier_completion_tokens: input.actual_completion_tokens,
  });
  const postings: Posting[] = contribution === undefined ? [] : payoutPostings(input.job_id, delta_id, contribution.assignments);
  if (releaseUnits !== undefined && releaseUnits > 0n) postings.push(releasePosting(input.job_id, formatCreditUnits(releaseUnits, scale)));
  return { ...settlement, job_id: input.job_id, delta_id, postings };
}

/**
 * The final delta split among the settlement's workers. Every credit burned is paid to some
 * worker, so a reconciliation with a final delta to burn needs them.
 */
function finalDeltaContribution(input: SettleInput, finalDeltaUnits: bigint, reconciling: boolean, settings: PolicySettings): Contribution | undefined {
  if (finalDeltaUnits === 0n) return undefined;
  const { assignments, total_columns } = input;
  if (assignments !== undefined && assignments.length > 0 && total_columns !== undefined) {
    return splitCredits(finalDeltaUnits, { total_model_bytes: input.total_model_bytes, total_columns, assignments }, settings);
  }
  if (!reconciling) return undefined;
  const credits = formatCreditUnits(finalDeltaUnits, settings.credit_scale);
  throw new PolicyInputError([
    { path: '/assignments', message: `must hold at least one assignment: the final delta of ${credits} credits is paid to the workers` },
  ]);
}

function checkSettleInput(input: SettleInput, settings: PolicySettings): void {
  const check = new RuleCheck();
  const { promptValid, completionValid } = checkJobTokens(
    check,
    input.prompt_tokens,
    input.actual_completion_tokens,
    'actual_completion_tokens',
    input.total_model_bytes,
  );
  checkReserved(check, input.prompt_tokens, promptValid, input.reserved_completion_tokens);
  const streaming = input.accounted_completion_tokens !== undefined || input.prompt_credits_accounted !== undefined;
  if (streaming && input.reserved_completion_tokens === undefined) {
    check.fail('/reserved_completion_tokens', 'is required with accounted_completion_tokens or prompt_credits_accounted: the stream is reconciled against the reservation');
  }
  if (input.accounted_completion_tokens !== undefined) {
    const valid = check.field('/accounted_completion_tokens', input.accounted_completion_tokens, 'accounted_completion_tokens');
    if (valid && completionValid && input.accounted_completion_tokens > input.actual_completion_tokens) {
      check.fail('/accounted_completion_tokens', `must be at most actual_completion_tokens (${input.actual_completion_tokens})`);
    }
  }
  if (input.prompt_credits_accounted !== undefined) check.boolean('/prompt_credits_accounted', input.prompt_credits_accounted);
  checkJobId(check, input.job_id);
  checkWorkers(check, input, settings);
  check.conclude();
}

/** Workers come with the columns their shards index, or not at all. */
function checkWorkers(check: RuleCheck, input: SettleInput, settings: PolicySettings): void {
  const { assignments, total_columns } = input;
  if (assignments === undefined && total_columns === undefined) return;
  if (total_columns === undefined) {
    check.fail('/total_columns', 'is required with assignments');
    return;
  }
  const columnsValid = checkTotalColumns(check, total_columns);
  if (assignments === undefined) {
    check.fail('/assignments', 'is required with total_columns');
    return;
  }
  checkAssignments(check, assignments, columnsValid ? total_columns : undefined, settings.max_assignments, false);
}

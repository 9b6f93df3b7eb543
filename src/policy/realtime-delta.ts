import { consumptionOf } from './consumption.js';
import { splitCredits } from './contribution.js';
import { formatCreditUnits } from './credit-units.js';
import { ReservationExceededError } from './errors.js';
import { checkAssignments, checkJobId, checkRequestTokens, checkReserved, checkTotalColumns, RuleCheck } from './input-rules.js';
import { deltaIdOf, payoutPostings } from './job-ledger.js';
import { DEFAULT_POLICY_SETTINGS, type PolicySettings } from './parameters.js';
import { creditUnitsForTokens, tokenPrice, type TokenPrice } from './token-price.js';
import type { Contribution, RealtimeDelta, RealtimeDeltaInput, Reservation } from './types.js';

/**
 * Accounts the tokens produced since the caller's last accounted state: burns their credits and
 * splits exactly that amount among the workers. Returns null when nothing is new.
 *
 * Completion credits are `C(frontier) - C(accounted)` with `C(n) = round(n * factor)`, so the
 * burns of any sequence of deltas from 0 to N add up exactly to the settlement of N.
 *
 * With `reserved_completion_tokens`, a frontier past the reservation is refused
 * (ReservationExceededError) and the answer reports the reservation as burned so far. With
 * `job_id`, it carries the delta's id and its ledger postings.
 */
export function computeRealtimeDelta(input: RealtimeDeltaInput, settings: PolicySettings = DEFAULT_POLICY_SETTINGS): RealtimeDelta | null {
  checkRealtimeDeltaInput(input, settings);
  const reserved = input.reserved_completion_tokens;
  if (reserved !== undefined && input.frontier_completion_tokens > reserved) {
    throw new ReservationExceededError('/frontier_completion_tokens', reserved, input.frontier_completion_tokens - reserved);
  }
  const prompt_tokens_delta = input.prompt_credits_accounted ? 0 : input.prompt_tokens;
  const completion_tokens_delta = input.frontier_completion_tokens - input.accounted_completion_tokens;
  if (prompt_tokens_delta === 0 && completion_tokens_delta === 0) return null;
  const price = tokenPrice(input.total_model_bytes, settings);
  const promptUnits = creditUnitsForTokens(prompt_tokens_delta, price);
  const completionUnits =
    creditUnitsForTokens(input.frontier_completion_tokens, price) - creditUnitsForTokens(input.accounted_completion_tokens, price);
  const contribution = splitCredits(promptUnits + completionUnits, input, settings);
  return {
    policy_version: settings.parameters.version,
    prompt_tokens_delta,
    completion_tokens_delta,
    frontier_completion_tokens: input.frontier_completion_tokens,
    contribution,
    consumption: consumptionOf(price, promptUnits, completionUnits, settings),
    ...(reserved === undefined ? {} : { reservation: reservationAfter(input, reserved, price, settings) }),
    ...(input.job_id === undefined ? {} : jobLedgerOf(input, input.job_id, contribution, settings)),
  };
}

/**
 * The reservation once this delta is burned: the prompt (burned now or before) and every
 * completion token up to the frontier.
 */
function reservationAfter(input: RealtimeDeltaInput, reserved: number, price: TokenPrice, settings: PolicySettings): Reservation {
  const promptUnits = creditUnitsForTokens(input.prompt_tokens, price);
  const reservedUnits = promptUnits + creditUnitsForTokens(reserved, price);
  const burnedUnits = promptUnits + creditUnitsForTokens(input.frontier_completion_tokens, price);
  const scale = settings.credit_scale;
  return {
    reserved_credits: formatCreditUnits(reservedUnits, scale),
    burned_credits: formatCreditUnits(burnedUnits, scale),
    remaining_credits: formatCreditUnits(reservedUnits - burnedUnits, scale),
  };
}

function jobLedgerOf(input: RealtimeDeltaInput, job_id: string, contribution: Contribution, settings: PolicySettings) {
  const delta_id = deltaIdOf({
    job_id,
    policy_version: settings.parameters.version,
    prompt_credits_accounted: input.prompt_credits_accounted,
    accounted_completion_tokens: input.accounted_completion_tokens,
    frontier_completion_tokens: input.frontier_completion_tokens,
  });
  return { job_id, delta_id, postings: payoutPostings(job_id, delta_id, contribution.assignments) };
}

function checkRealtimeDeltaInput(input: RealtimeDeltaInput, settings: PolicySettings): void {
  const check = new RuleCheck();
  const promptValid = check.field('/prompt_tokens', input.prompt_tokens, 'prompt_tokens');
  const frontierValid = check.field('/frontier_completion_tokens', input.frontier_completion_tokens, 'frontier_completion_tokens');
  const accountedValid = check.field('/accounted_completion_tokens', input.accounted_completion_tokens, 'accounted_completion_tokens');
  const flagValid = check.boolean('/prompt_credits_accounted', input.prompt_credits_accounted);
  check.field('/total_model_bytes', input.total_model_bytes, 'total_model_bytes');
  const columnsValid = checkTotalColumns(check, input.total_columns);
  // Until the counters are known good, assume there is something to split, so that a missing
  // assignment list is reported together with everything else.
  let budgetToSplit = true;
  if (promptValid && frontierValid && accountedValid && flagValid) {
    const frontier = input.frontier_completion_tokens;
    const accounted = input.accounted_completion_tokens;
    if (frontier < accounted) {
      check.fail('/frontier_completion_tokens', `must be at least accounted_completion_tokens (${accounted})`);
    }
    checkRequestTokens(check, '/frontier_completion_tokens', 'prompt_tokens + frontier_completion_tokens', input.prompt_tokens + frontier);
    budgetToSplit = frontier > accounted || (!input.prompt_credits_accounted && input.prompt_tokens > 0);
  }
  checkReserved(check, input.prompt_tokens, promptValid, input.reserved_completion_tokens);
  checkJobId(check, input.job_id);
  checkAssignments(check, input.assignments, columnsValid ? input.total_columns : undefined, settings.max_assignments, budgetToSplit);
  check.conclude();
}

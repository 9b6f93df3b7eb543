import { maxAffordableCompletionTokens } from './affordability.js';
import { formatCreditUnits } from './credit-units.js';
import { checkRequestTokens, RuleCheck } from './input-rules.js';
import { DEFAULT_POLICY_SETTINGS, type PolicySettings } from './parameters.js';
import { creditUnitsForTokens, tokenPrice, type TokenPrice } from './token-price.js';
import type { Consumption, Quote, QuoteInput } from './types.js';

/**
 * Reserves credits before a job starts: prompt plus the requested completion tokens. With
 * `budget_credits`, it also says how many completion tokens the budget affords.
 */
export function quoteConsumption(input: QuoteInput, settings: PolicySettings = DEFAULT_POLICY_SETTINGS): Quote {
  const check = new RuleCheck();
  checkJobTokens(check, input.prompt_tokens, input.requested_completion_tokens, 'requested_completion_tokens', input.total_model_bytes);
  const budgetUnits = input.budget_credits === undefined ? undefined : check.creditAmount('/budget_credits', input.budget_credits, settings.credit_scale);
  check.conclude();
  const price = tokenPrice(input.total_model_bytes, settings);
  const consumption = priceTokens(input.prompt_tokens, input.requested_completion_tokens, price, settings);
  if (budgetUnits === undefined) return consumption;
  return { ...consumption, max_affordable_completion_tokens: maxAffordableCompletionTokens(input.prompt_tokens, budgetUnits, price) };
}

/**
 * Checks the counts every priced job has: its prompt, its completion and its model's size. Says
 * which counts are good, so that later rules compare only good counts.
 */
export function checkJobTokens(
  check: RuleCheck,
  prompt_tokens: number,
  completion_tokens: number,
  completion_field: 'requested_completion_tokens' | 'actual_completion_tokens',
  total_model_bytes: number,
): { readonly promptValid: boolean; readonly completionValid: boolean } {
  const promptValid = check.field('/prompt_tokens', prompt_tokens, 'prompt_tokens');
  const completionValid = check.field(`/${completion_field}`, completion_tokens, completion_field);
  if (promptValid && completionValid) {
    checkRequestTokens(check, `/${completion_field}`, `prompt_tokens + ${completion_field}`, prompt_tokens + completion_tokens);
  }
  check.field('/total_model_bytes', total_model_bytes, 'total_model_bytes');
  return { promptValid, completionValid };
}

/** The consumption of `prompt_tokens` and `completion_tokens` at `price`. */
export function priceTokens(prompt_tokens: number, completion_tokens: number, price: TokenPrice, settings: PolicySettings): Consumption {
  return consumptionOf(price, creditUnitsForTokens(prompt_tokens, price), creditUnitsForTokens(completion_tokens, price), settings);
}

/** Shapes already-priced prompt and completion units; the total is their exact sum. */
export function consumptionOf(
  price: TokenPrice,
  prompt_units: bigint,
  completion_units: bigint,
  settings: PolicySettings,
): Consumption {
  const scale = settings.credit_scale;
  return {
    policy_version: settings.parameters.version,
    model_size_factor: price.model_size_factor,
    prompt_credits: formatCreditUnits(prompt_units, scale),
    completion_credits: formatCreditUnits(completion_units, scale),
    total_credits: formatCreditUnits(prompt_units + completion_units, scale),
  };
}

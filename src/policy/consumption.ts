import { formatCreditUnits } from './credit-units.js';
import { checkRequestTokens, RuleCheck } from './input-rules.js';
import { DEFAULT_POLICY_SETTINGS, type PolicySettings } from './parameters.js';
import { creditUnitsForTokens, tokenPrice, type TokenPrice } from './token-price.js';
import type { Consumption, QuoteInput, SettleInput } from './types.js';

/** Reserves credits before a job starts: prompt plus the requested completion tokens. */
export function quoteConsumption(input: QuoteInput, settings: PolicySettings = DEFAULT_POLICY_SETTINGS): Consumption {
  return priceJob(input.prompt_tokens, input.requested_completion_tokens, 'requested_completion_tokens', input.total_model_bytes, settings);
}

/** Prices what a finished job actually consumed. */
export function settleConsumption(input: SettleInput, settings: PolicySettings = DEFAULT_POLICY_SETTINGS): Consumption {
  return priceJob(input.prompt_tokens, input.actual_completion_tokens, 'actual_completion_tokens', input.total_model_bytes, settings);
}

function priceJob(
  prompt_tokens: number,
  completion_tokens: number,
  completion_field: 'requested_completion_tokens' | 'actual_completion_tokens',
  total_model_bytes: number,
  settings: PolicySettings,
): Consumption {
  const check = new RuleCheck();
  const promptValid = check.field('/prompt_tokens', prompt_tokens, 'prompt_tokens');
  const completionValid = check.field(`/${completion_field}`, completion_tokens, completion_field);
  if (promptValid && completionValid) {
    checkRequestTokens(check, `/${completion_field}`, `prompt_tokens + ${completion_field}`, prompt_tokens + completion_tokens);
  }
  check.field('/total_model_bytes', total_model_bytes, 'total_model_bytes');
  check.conclude();
  const price = tokenPrice(total_model_bytes, settings);
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

import { REQUEST_TOKENS_MAX } from './input-ranges.js';
import { creditUnitsForTokens, type TokenPrice } from './token-price.js';

/**
 * The largest completion count whose quote, with the prompt, fits `budget_units`: 0 when the
 * prompt alone does not fit. `C(n)` never falls as `n` grows, so a binary search over the counts
 * a request may carry finds it in at most 32 steps, each exact.
 */
export function maxAffordableCompletionTokens(prompt_tokens: number, budget_units: bigint, price: TokenPrice): number {
  const room = budget_units - creditUnitsForTokens(prompt_tokens, price);
  if (room < 0n) return 0;
  let affordable = 0;
  let unaffordable = REQUEST_TOKENS_MAX - prompt_tokens + 1;
  // Invariant: C(affordable) <= room, and every count from `unaffordable` up costs more (or is not allowed).
  while (unaffordable - affordable > 1) {
    const middle = affordable + Math.floor((unaffordable - affordable) / 2);
    if (creditUnitsForTokens(middle, price) <= room) affordable = middle;
    else unaffordable = middle;
  }
  return affordable;
}

import { divideRoundHalfEven, unitsPerCredit } from './credit-units.js';
import { BYTES_PER_GIB } from './limits.js';
import type { PolicySettings } from './parameters.js';

/**
 * The price of one token as an exact fraction of credit units, with the model size factor it
 * comes from. `model_size_factor = max(1, total_model_bytes / (model_size_scale_gib * GiB))`.
 */
export interface TokenPrice {
  readonly model_size_factor: number;
  readonly units_numerator: bigint;
  readonly units_denominator: bigint;
}

export function tokenPrice(total_model_bytes: number, settings: PolicySettings): TokenPrice {
  const scaleBytes = settings.parameters.model_size_scale_gib * BYTES_PER_GIB;
  const sizedBytes = Math.max(total_model_bytes, scaleBytes);
  return {
    model_size_factor: sizedBytes / scaleBytes,
    units_numerator: BigInt(sizedBytes) * unitsPerCredit(settings.credit_scale),
    units_denominator: BigInt(scaleBytes),
  };
}

/** `C(n) = round_half_even(n * model_size_factor)` in credit units: exact, and telescoping. */
export function creditUnitsForTokens(tokens: number, price: TokenPrice): bigint {
  // No tokens cost nothing: a delta whose prompt is already accounted skips the division.
  if (tokens === 0) return 0n;
  return divideRoundHalfEven(BigInt(tokens) * price.units_numerator, price.units_denominator);
}

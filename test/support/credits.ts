/**
 * Test helpers for credit amounts: parse the decimal strings the policy returns into exact
 * integer units, and an independent decimal.js oracle for the price of tokens.
 */
import { Decimal } from 'decimal.js';

/** decimal.js at a precision far beyond any value the policy handles (budgets stay under 40 digits). */
export const Exact = Decimal.clone({ precision: 200, rounding: Decimal.ROUND_HALF_EVEN });

const GIB = 2 ** 30;

/** The shape every credit string must have at `scale` fraction digits. */
export function creditPattern(scale: number): RegExp {
  return scale === 0 ? /^(0|[1-9]\d*)$/ : new RegExp(`^(0|[1-9]\\d*)\\.\\d{${scale}}$`);
}

/** Parses a credit string into integer units, rejecting anything but exactly `scale` fraction digits. */
export function creditUnits(amount: string, scale = 9): bigint {
  if (!creditPattern(scale).test(amount)) throw new Error(`not a credit amount at scale ${scale}: ${JSON.stringify(amount)}`);
  return BigInt(amount.replace('.', ''));
}

export function sumCreditUnits(amounts: Iterable<string>, scale = 9): bigint {
  let sum = 0n;
  for (const amount of amounts) sum += creditUnits(amount, scale);
  return sum;
}

export interface PriceOptions {
  readonly credit_scale?: number;
  readonly model_size_scale_gib?: number;
}

/**
 * The model's `C(n) = round_half_even(n * max(1, bytes / scaleBytes))` at `credit_scale` fraction
 * digits, in units, computed in decimal independently of the code under test.
 */
export function oracleTokenUnits(tokens: number, total_model_bytes: number, options: PriceOptions = {}): bigint {
  const scale = options.credit_scale ?? 9;
  // Scaled in binary, where multiplying by 2^30 is exact: a scale such as 2^-30 GiB has no short
  // decimal form, and decimal.js would read only the shortest one that rounds to it.
  const scaleByteCount = (options.model_size_scale_gib ?? 32) * GIB;
  if (!Number.isSafeInteger(scaleByteCount)) throw new Error(`model_size_scale_gib is not a whole number of bytes: ${options.model_size_scale_gib}`);
  const scaleBytes = new Exact(scaleByteCount);
  const bytes = Exact.max(new Exact(total_model_bytes), scaleBytes);
  const credits = new Exact(tokens).times(bytes).div(scaleBytes).toDecimalPlaces(scale, Decimal.ROUND_HALF_EVEN);
  return BigInt(credits.times(new Exact(10).pow(scale)).toFixed(0));
}

/** Formats units the way the policy must: `scale` fraction digits, computed in decimal. */
export function oracleFormat(units: bigint, scale = 9): string {
  return new Exact(units.toString()).div(new Exact(10).pow(scale)).toFixed(scale);
}

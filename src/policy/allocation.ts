/**
 * Splits an exact number of credit units in proportion to positive weights by the largest
 * remainder method: every part gets the floor of its exact share `total * w / sum(w)`, and the
 * units left over go one each to the largest exact remainders, ties to the earlier input. The
 * parts always sum to the total exactly.
 */
import type { CreditUnits } from './credit-units.js';
import { exactPartials, roundPartials } from './exact-sum.js';
import { sortedCopy } from './sorted-copy.js';

/** Up to this total, floats hold every part exactly and bound every share's error (see allocateSafe). */
const SAFE_TOTAL_UNITS_MAX = 2n ** 52n;

/**
 * A bound on the relative error of `total * (w / fl(sum))` against the exact share: three
 * roundings of at most 2^-53 each, with room to spare.
 */
const SHARE_RELATIVE_ERROR = 2 ** -50;
const SHARE_ABSOLUTE_ERROR = 2 ** -1000;

/**
 * `weight_partials` are the exact partials of the weights (see exactPartials), for a caller that
 * already holds them: on a large job, summing the weights is a fair part of the work.
 */
export function allocateUnits(
  total_units: bigint,
  weights: readonly number[],
  weight_partials: readonly number[] = exactPartials(weights),
): readonly CreditUnits[] {
  if (weights.length === 0) throw new RangeError('allocation needs at least one weight');
  if (total_units < 0n) throw new RangeError('allocation of a negative total');
  for (let index = 0; index < weights.length; index += 1) {
    const weight = weights[index]!;
    if (!(weight > 0 && Number.isFinite(weight))) throw new RangeError(`weight ${weight} is not positive and finite`);
  }
  if (total_units <= SAFE_TOTAL_UNITS_MAX) return allocateSafe(Number(total_units), weights, weight_partials);
  return allocateExact(total_units, weights);
}

/**
 * Floats first, exact arithmetic only where floats cannot decide. Each share is known to within
 * a proven error, so its floor is certain unless it lies that close to an integer, and a
 * remainder clearly above or below the cut needs no exact value. The few that remain, usually
 * none or a handful of tied workers, are computed as exact rationals. Parts below 2^52 are exact
 * as doubles, so they are returned as numbers.
 */
function allocateSafe(total: number, weights: readonly number[], partials: readonly number[]): number[] {
  const count = weights.length;
  const weightSum = roundPartials(partials);
  const shares = new ExactShares(total, weights, partials);
  const parts = new Array<number>(count);
  // Each exact remainder lies within `error` of its float value.
  const remainders = new Array<number>(count);
  const errors = new Array<number>(count);
  let allocated = 0;
  for (let index = 0; index < count; index += 1) {
    const ideal = total * (weights[index]! / weightSum);
    const error = ideal * SHARE_RELATIVE_ERROR + SHARE_ABSOLUTE_ERROR;
    let whole = Math.floor(ideal);
    let remainder = ideal - whole;
    if (remainder < error || remainder + error >= 1) {
      whole = Number(shares.of(index).whole);
      remainder = ideal - whole;
    }
    parts[index] = whole;
    remainders[index] = remainder;
    errors[index] = error;
    allocated += whole;
  }
  // Exact floors lose less than one unit each, so 0 <= leftover < count.
  const leftover = total - allocated;
  if (leftover > 0) giveLeftover(parts, remainders, errors, leftover, shares);
  return parts;
}

/**
 * Gives one unit to each of the `leftover` largest exact remainders, ties to the earlier input.
 * Sorted, the float remainders split at the cut: at least `count - leftover` lie at or below
 * `below`, at least `leftover` at or above `at`. Whoever is surely above every upper bound
 * of the first group is in, whoever is surely below every lower bound of the second is out, and
 * only those in between, near-ties at the cut, are ranked exactly.
 */
function giveLeftover(parts: number[], remainders: readonly number[], errors: readonly number[], leftover: number, shares: ExactShares): void {
  const count = parts.length;
  const sorted = sortedCopy(remainders);
  const below = sorted[count - leftover - 1]!;
  const at = sorted[count - leftover]!;
  let lowerGroupHigh = -Infinity;
  let upperGroupLow = Infinity;
  for (let index = 0; index < count; index += 1) {
    const remainder = remainders[index]!;
    if (remainder <= below) lowerGroupHigh = Math.max(lowerGroupHigh, remainder + errors[index]!);
    if (remainder >= at) upperGroupLow = Math.min(upperGroupLow, remainder - errors[index]!);
  }
  const undecided: number[] = [];
  let given = 0;
  for (let index = 0; index < count; index += 1) {
    if (remainders[index]! - errors[index]! > lowerGroupHigh) {
      parts[index]! += 1;
      given += 1;
    } else if (remainders[index]! + errors[index]! >= upperGroupLow) {
      undecided.push(index);
    }
  }
  undecided.sort((left, right) => shares.compareRemainders(right, left) || left - right);
  for (let rank = 0; given < leftover; rank += 1) {
    const index = undecided[rank];
    if (index === undefined) throw new Error('allocation invariant broken: too few candidates for the leftover units');
    parts[index]! += 1;
    given += 1;
  }
}

/**
 * Exact shares `total * w_i / S` with S the exact sum of the weights, kept as the few
 * non-overlapping partials that represent it. Computed on demand and cached by weight, so that
 * many identical workers cost one computation. Nothing is built until a share is asked for: most
 * allocations need none.
 */
class ExactShares {
  private sumPartials: readonly Dyadic[] | undefined;
  private cache: Map<number, { whole: bigint; remainder: bigint; denominator: bigint }> | undefined;

  constructor(
    private readonly total: number,
    private readonly weights: readonly number[],
    private readonly partials: readonly number[],
  ) {}

  of(index: number): { whole: bigint; remainder: bigint; denominator: bigint } {
    const weight = this.weights[index]!;
    this.cache ??= new Map();
    const cached = this.cache.get(weight);
    if (cached !== undefined) return cached;
    this.sumPartials ??= this.partials.filter((partial) => partial !== 0).map(decompose);
    const share = decompose(weight);
    const lowest = this.sumPartials.reduce((least, partial) => Math.min(least, partial.exponent), share.exponent);
    const denominator = this.sumPartials.reduce((sum, partial) => sum + scaled(partial, lowest), 0n);
    const numerator = BigInt(this.total) * scaled(share, lowest);
    const whole = numerator / denominator;
    const computed = { whole, remainder: numerator - whole * denominator, denominator };
    this.cache.set(weight, computed);
    return computed;
  }

  /** Sign of remainder(left) - remainder(right), exactly. */
  compareRemainders(left: number, right: number): number {
    // Equal weights have equal shares: the common case of identical workers needs no arithmetic.
    if (this.weights[left] === this.weights[right]) return 0;
    const a = this.of(left);
    const b = this.of(right);
    const difference = a.remainder * b.denominator - b.remainder * a.denominator;
    return difference === 0n ? 0 : difference > 0n ? 1 : -1;
  }
}

function allocateExact(total: bigint, weights: readonly number[]): bigint[] {
  const scaledWeights = toCommonScale(weights);
  const scaledSum = scaledWeights.reduce((sum, weight) => sum + weight, 0n);
  const parts: bigint[] = [];
  const remainders: bigint[] = [];
  let allocated = 0n;
  for (const weight of scaledWeights) {
    const product = total * weight;
    const whole = product / scaledSum;
    parts.push(whole);
    remainders.push(product - whole * scaledSum);
    allocated += whole;
  }
  const order = parts.map((_, index) => index);
  order.sort((left, right) => compareDescending(remainders[left]!, remainders[right]!) || left - right);
  // Exact floors lose less than one unit each, so fewer units than parts are left over.
  const leftover = Number(total - allocated);
  for (let rank = 0; rank < leftover; rank += 1) parts[order[rank]!]! += 1n;
  return parts;
}

function compareDescending(left: bigint, right: bigint): number {
  if (left === right) return 0;
  return left > right ? -1 : 1;
}

/** A finite double as mantissa * 2^exponent, exactly (the mantissa carries the sign). */
interface Dyadic {
  readonly mantissa: bigint;
  readonly exponent: number;
}

function scaled(value: Dyadic, exponent: number): bigint {
  return value.mantissa << BigInt(value.exponent - exponent);
}

/** Every weight as an integer over the smallest exponent among them: their exact ratios. */
function toCommonScale(weights: readonly number[]): bigint[] {
  const decomposed = weights.map(decompose);
  const lowest = decomposed.reduce((least, part) => Math.min(least, part.exponent), Infinity);
  return decomposed.map((part) => scaled(part, lowest));
}

function decompose(value: number): Dyadic {
  // A view of its own per call: the exact path is the rare one, and a pure module shares no scratch.
  const bits = new DataView(new ArrayBuffer(8));
  bits.setFloat64(0, value);
  const high = bits.getUint32(0);
  const low = bits.getUint32(4);
  const negative = high >>> 31 === 1;
  const biasedExponent = (high >>> 20) & 0x7ff;
  const fraction = (BigInt(high & 0xfffff) << 32n) | BigInt(low);
  const mantissa = biasedExponent === 0 ? fraction : fraction | (1n << 52n);
  return { mantissa: negative ? -mantissa : mantissa, exponent: biasedExponent === 0 ? -1074 : biasedExponent - 1075 };
}

/**
 * Splits an exact number of credit units in proportion to positive weights by the largest
 * remainder method: every part gets the floor of its ideal share, and the units left over go
 * one each to the largest remainders, ties to the earlier input. The parts always sum to the
 * total exactly.
 */
import { exactSum } from './exact-sum.js';
import type { CreditUnits } from './credit-units.js';
import { valueOfRank } from './order-statistics.js';

/**
 * Below this total, ideal shares and their sum are computed in doubles with an error under one
 * unit, and the float path is an order of magnitude faster than bigint arithmetic.
 */
const SAFE_TOTAL_UNITS_MAX = 2n ** 52n;

export function allocateUnits(total_units: bigint, weights: Float64Array): CreditUnits[] {
  if (weights.length === 0) throw new RangeError('allocation needs at least one weight');
  if (total_units < 0n) throw new RangeError('allocation of a negative total');
  if (total_units <= SAFE_TOTAL_UNITS_MAX) return allocateSafe(Number(total_units), weights);
  return allocateExact(total_units, weights);
}

function allocateSafe(total: number, weights: Float64Array): number[] {
  const weightSum = exactSum(weights);
  const count = weights.length;
  const parts = new Array<number>(count);
  const remainders = new Float64Array(count);
  let allocated = 0;
  for (let index = 0; index < count; index += 1) {
    const ideal = total * (weights[index]! / weightSum);
    const whole = Math.floor(ideal);
    parts[index] = whole;
    remainders[index] = ideal - whole;
    allocated += whole;
  }
  const leftover = total - allocated;
  if (leftover > 0) giveToLargestRemainders(parts, remainders, leftover);
  if (leftover < 0) takeFromSmallestRemainders(parts, remainders, -leftover);
  return parts;
}

/** Adds one unit to each of the `units` largest remainders, ties to the lower index. */
function giveToLargestRemainders(parts: number[], remainders: Float64Array, units: number): void {
  const count = parts.length;
  const rounds = Math.floor(units / count);
  if (rounds > 0) for (let index = 0; index < count; index += 1) parts[index]! += rounds;
  let left = units - rounds * count;
  if (left === 0) return;
  const threshold = valueOfRank(remainders, count - left);
  for (let index = 0; index < count; index += 1) {
    if (remainders[index]! > threshold) {
      parts[index]! += 1;
      left -= 1;
    }
  }
  for (let index = 0; left > 0; index += 1) {
    if (remainders[index] === threshold) {
      parts[index]! += 1;
      left -= 1;
    }
  }
}

/**
 * Float error can make the floors overshoot the total by a unit; take it back from the smallest
 * remainders (the later input on ties), never below zero.
 */
function takeFromSmallestRemainders(parts: number[], remainders: Float64Array, units: number): void {
  const order = parts.map((_, index) => index).filter((index) => parts[index]! > 0);
  order.sort((left, right) => remainders[left]! - remainders[right]! || right - left);
  let left = units;
  for (const index of order) {
    if (left === 0) return;
    parts[index]! -= 1;
    left -= 1;
  }
  if (left > 0) throw new RangeError('allocation overshoot larger than the parts');
}

function allocateExact(total: bigint, weights: Float64Array): bigint[] {
  const scaled = toCommonScale(weights);
  const scaledSum = scaled.reduce((sum, weight) => sum + weight, 0n);
  const parts: bigint[] = [];
  const remainders: bigint[] = [];
  let allocated = 0n;
  for (const weight of scaled) {
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

/** Each finite positive double is mantissa * 2^exponent; shift all onto the smallest exponent. */
function toCommonScale(weights: Float64Array): bigint[] {
  const decomposed = Array.from(weights, decompose);
  const lowest = decomposed.reduce((least, part) => Math.min(least, part.exponent), Infinity);
  return decomposed.map((part) => part.mantissa << BigInt(part.exponent - lowest));
}

const bits = new DataView(new ArrayBuffer(8));

function decompose(value: number): { mantissa: bigint; exponent: number } {
  if (!(value > 0 && Number.isFinite(value))) throw new RangeError(`weight ${value} is not positive and finite`);
  bits.setFloat64(0, value);
  const high = bits.getUint32(0);
  const low = bits.getUint32(4);
  const biasedExponent = (high >>> 20) & 0x7ff;
  const fraction = (BigInt(high & 0xfffff) << 32n) | BigInt(low);
  if (biasedExponent === 0) return { mantissa: fraction, exponent: -1074 };
  return { mantissa: fraction | (1n << 52n), exponent: biasedExponent - 1075 };
}

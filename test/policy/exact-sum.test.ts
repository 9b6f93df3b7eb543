import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exactSum } from '../../src/policy/exact-sum.js';

/** A finite double as the exact integer mantissa * 2^exponent, read from its IEEE bits. */
function exactDouble(value: number): { mantissa: bigint; exponent: number } {
  const bits = new BigUint64Array(new Float64Array([value]).buffer)[0]!;
  const negative = bits >> 63n === 1n;
  const biased = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  const mantissa = biased === 0 ? fraction : fraction + (1n << 52n);
  return { mantissa: negative ? -mantissa : mantissa, exponent: biased === 0 ? -1074 : biased - 1075 };
}

/**
 * The correctly rounded sum: add exactly in integers over the smallest binary exponent, write
 * that exact value as a decimal string (m / 2^k = m * 5^k / 10^k), and let Number() round it once.
 */
function correctlyRoundedSum(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const parts = values.map(exactDouble);
  const lowest = Math.min(...parts.map((part) => part.exponent));
  const sum = parts.reduce((total, part) => total + part.mantissa * 2n ** BigInt(part.exponent - lowest), 0n);
  if (lowest >= 0) return Number(sum * 2n ** BigInt(lowest));
  const places = -lowest;
  const negative = sum < 0n;
  const digits = ((negative ? -sum : sum) * 5n ** BigInt(places)).toString().padStart(places + 1, '0');
  return Number(`${negative ? '-' : ''}${digits.slice(0, -places)}.${digits.slice(-places)}`);
}

/** Equality of sums that does not care about the sign of a zero. */
function sameSum(actual: number, expected: number): void {
  expect(actual + 0).toBe(expected + 0);
}

const anyDouble = fc.double({ min: -1e300, max: 1e300, noNaN: true, noDefaultInfinity: true });
const cancelling = fc
  .array(fc.double({ min: -1e20, max: 1e20, noNaN: true, noDefaultInfinity: true }), { maxLength: 12 })
  .chain((big) =>
    fc.tuple(
      fc.constant(big),
      fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { maxLength: 8 }),
    ),
  )
  .map(([big, small]) => [...big, ...small, ...big.map((value) => -value)]);
/** x, half an ulp of x, and a nudge far below it: sums that sit on or next to a rounding tie. */
const nearTies = fc
  .record({
    x: fc.double({ min: 2 ** -900, max: 2 ** 900, noNaN: true }),
    negative: fc.boolean(),
    nudge: fc.integer({ min: 1, max: 200 }),
    nudgeSign: fc.constantFrom(-1, 0, 1),
    extra: fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { maxLength: 3 }),
  })
  .chain(({ x, negative, nudge, nudgeSign, extra }) => {
    const ulp = 2 ** exactDouble(x).exponent;
    const sign = negative ? -1 : 1;
    const values = [sign * x, (sign * ulp) / 2, nudgeSign * (ulp / 2) * 2 ** -nudge, ...extra.map((value) => value * ulp)];
    return fc.shuffledSubarray(values, { minLength: values.length, maxLength: values.length });
  });
const doubles = fc.oneof(fc.array(anyDouble, { maxLength: 30 }), cancelling, nearTies);

describe('exactSum', () => {
  it('survives catastrophic cancellation', () => {
    expect(exactSum([1, 1e100, 1, -1e100])).toBe(2);
    expect(exactSum([1e100, 1, -1e100, 1])).toBe(2);
    expect(exactSum([2 ** 53, 1, -(2 ** 53)])).toBe(1);
  });

  it('adds ten 0.1s to exactly 1, where a naive sum does not', () => {
    const tenths = Array.from({ length: 10 }, () => 0.1);
    expect(tenths.reduce((left, right) => left + right, 0)).not.toBe(1);
    expect(exactSum(tenths)).toBe(1);
  });

  it('rounds exact halfway sums to even', () => {
    // 1 + 2^-53 is exactly halfway between 1 and 1 + 2^-52: ties to the even 1.
    expect(exactSum([1, 2 ** -53])).toBe(1);
    // (1 + 2^-52) + 2^-53 is halfway between 1 + 2^-52 and 1 + 2^-51: ties to the even 1 + 2^-51.
    expect(exactSum([1 + 2 ** -52, 2 ** -53])).toBe(1 + 2 ** -51);
    // Just over halfway rounds up even when the extra is far below the last bit, and just under rounds down.
    expect(exactSum([1, 2 ** -53, 2 ** -100])).toBe(1 + 2 ** -52);
    expect(exactSum([1, 2 ** -53, -(2 ** -100)])).toBe(1);
    // 2^-160 is more than 53 bits below 2^-53: a sum from the smallest partial up loses it and ties to 1.
    expect(exactSum([1, 2 ** -53, 2 ** -160])).toBe(1 + 2 ** -52);
    expect(exactSum([2 ** -160, 1, 2 ** -53])).toBe(1 + 2 ** -52);
    expect(exactSum([1 + 2 ** -52, 2 ** -53, -(2 ** -160)])).toBe(1 + 2 ** -52);
  });

  it('handles the empty list, single values and subnormals', () => {
    expect(exactSum([])).toBe(0);
    expect(exactSum([42.5])).toBe(42.5);
    expect(exactSum(Float64Array.from([Number.MIN_VALUE, Number.MIN_VALUE]))).toBe(2 * Number.MIN_VALUE);
    expect(exactSum([Number.MAX_VALUE, -Number.MAX_VALUE, 3])).toBe(3);
  });

  it('equals the correctly rounded exact sum', () => {
    fc.assert(
      fc.property(doubles, (values) => {
        sameSum(exactSum(values), correctlyRoundedSum(values));
      }),
    );
  });

  it('does not depend on the order of the values', () => {
    const permuted = doubles.chain((values) =>
      fc.tuple(fc.constant(values), fc.shuffledSubarray(values, { minLength: values.length, maxLength: values.length })),
    );
    fc.assert(
      fc.property(permuted, ([values, shuffled]) => {
        sameSum(exactSum(shuffled), exactSum(values));
        sameSum(exactSum(Float64Array.from(values).reverse()), exactSum(values));
      }),
    );
  });
});

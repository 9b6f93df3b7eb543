import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allocateUnits } from '../../src/policy/allocation.js';
import type { CreditUnits } from '../../src/policy/credit-units.js';
import { exactPartials } from '../../src/policy/exact-sum.js';
import { Exact } from '../support/credits.js';

const SAFE_MAX = 2n ** 52n;

/** A positive finite double as the exact rational mantissa * 2^exponent, read from its IEEE bits. */
function exactDouble(value: number): { mantissa: bigint; exponent: number } {
  const bits = new BigUint64Array(new Float64Array([value]).buffer)[0]!;
  const biased = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  return biased === 0 ? { mantissa: fraction, exponent: -1074 } : { mantissa: fraction + (1n << 52n), exponent: biased - 1075 };
}

/** The weights as integers over one common power of two: their exact ratios. */
function exactWeights(weights: readonly number[]): bigint[] {
  const parts = weights.map(exactDouble);
  const lowest = Math.min(...parts.map((part) => part.exponent));
  return parts.map((part) => part.mantissa * 2n ** BigInt(part.exponent - lowest));
}

/** Textbook largest remainder in exact rationals: floors, then one unit per largest remainder, ties to the earlier input. */
function largestRemainder(total: bigint, weights: readonly number[]): bigint[] {
  const exact = exactWeights(weights);
  const sum = exact.reduce((left, right) => left + right, 0n);
  const parts = exact.map((weight) => (total * weight) / sum);
  const remainders = exact.map((weight, index) => total * weight - parts[index]! * sum);
  const order = parts.map((_, index) => index);
  order.sort((left, right) => (remainders[left]! === remainders[right]! ? left - right : remainders[left]! > remainders[right]! ? -1 : 1));
  let leftover = total - parts.reduce((left, right) => left + right, 0n);
  for (const index of order) {
    if (leftover === 0n) break;
    parts[index]! += 1n;
    leftover -= 1n;
  }
  return parts;
}

/** The exact ideal share total * w / sum(w) of every weight, in decimal. */
function idealShares(total: bigint, weights: readonly number[]) {
  const exact = exactWeights(weights);
  const sum = new Exact(exact.reduce((left, right) => left + right, 0n).toString());
  return exact.map((weight) => new Exact((total * weight).toString()).div(sum));
}

function allocate(total: bigint, weights: readonly number[]): bigint[] {
  const parts: readonly CreditUnits[] = allocateUnits(total, weights);
  for (const part of parts) expect(typeof part).toBe(total <= SAFE_MAX ? 'number' : 'bigint');
  return parts.map((part) => BigInt(part));
}

function expectConserved(total: bigint, parts: readonly bigint[]): void {
  expect(parts.reduce((left, right) => left + right, 0n)).toBe(total);
  for (const part of parts) expect(part).toBeGreaterThanOrEqual(0n);
}

/** Positive finite weights over many magnitudes, subnormals included. */
const weight = fc.oneof(
  fc.integer({ min: 1, max: 1000 }),
  fc.double({ min: Number.MIN_VALUE, max: 1e6, noNaN: true, noDefaultInfinity: true }),
  fc.double({ min: 1e-30, max: 1, noNaN: true }),
);
const weights = fc.array(weight, { minLength: 1, maxLength: 40 });
const safeTotal = fc.oneof(fc.bigInt({ min: 0n, max: 1000n }), fc.bigInt({ min: 0n, max: SAFE_MAX }), fc.bigInt({ min: SAFE_MAX - 5000n, max: SAFE_MAX }));
const exactTotal = fc.oneof(fc.bigInt({ min: SAFE_MAX + 1n, max: SAFE_MAX + 5000n }), fc.bigInt({ min: SAFE_MAX + 1n, max: 2n ** 100n }));

describe('allocateUnits: examples', () => {
  it('gives leftover units to the earlier input on ties', () => {
    expect(allocate(4n, [1, 1, 1])).toEqual([2n, 1n, 1n]);
    expect(allocate(5n, [1, 1, 1])).toEqual([2n, 2n, 1n]);
    expect(allocate(1n, [1, 1, 1])).toEqual([1n, 0n, 0n]);
    expect(allocate(3n, [2, 2])).toEqual([2n, 1n]);
    // 2 * 1/4 = 0.5 and 2 * 3/4 = 1.5: equal remainders, the earlier input wins.
    expect(allocate(2n, [1, 3])).toEqual([1n, 1n]);
    expect(allocate(2n, [3, 1])).toEqual([2n, 0n]);
  });

  it('gives leftover units to the largest remainders', () => {
    // 10 * [1, 2, 7] / 10 is exact; 10 * [1, 1, 4] / 6 = [1.67, 1.67, 6.67] -> floors 1, 1, 6 and two
    // units left over for three equal remainders: the first two get them.
    expect(allocate(10n, [1, 2, 7])).toEqual([1n, 2n, 7n]);
    expect(allocate(10n, [1, 1, 4])).toEqual([2n, 2n, 6n]);
    // 11 * [1, 1, 4] / 6 = [1.83, 1.83, 7.33] -> floors 1, 1, 7 and two units to the .83s.
    expect(allocate(11n, [1, 1, 4])).toEqual([2n, 2n, 7n]);
    // 9 * [1, 2, 4] / 7 = [1.29, 2.57, 5.14] -> floors 1, 2, 5 and one unit to the .57.
    expect(allocate(9n, [1, 2, 4])).toEqual([1n, 3n, 5n]);
    // 7 * [5, 3, 2] / 10 = [3.5, 2.1, 1.4]: one unit left, to the .5.
    expect(allocate(7n, [5, 3, 2])).toEqual([4n, 2n, 1n]);
  });

  it('gives everything to a single weight and nothing of a zero total', () => {
    expect(allocate(12_345n, [0.3])).toEqual([12_345n]);
    expect(allocate(0n, [1, 2, 3])).toEqual([0n, 0n, 0n]);
    expect(allocate(2n ** 80n, [7e-300])).toEqual([2n ** 80n]);
  });

  it('splits ties the same way on the exact bigint path', () => {
    // 2^52 = 3 * 1501199875790165 + 1 and 2^60 = 3 q + 1 with q = (2^60 - 1) / 3.
    expect(allocate(SAFE_MAX, [1, 1, 1])).toEqual([1_501_199_875_790_166n, 1_501_199_875_790_165n, 1_501_199_875_790_165n]);
    const q = (2n ** 60n - 1n) / 3n;
    expect(allocate(2n ** 60n, [1, 1, 1])).toEqual([q + 1n, q, q]);
    expect(allocate(2n ** 60n + 1n, [1, 1, 1])).toEqual([q + 1n, q + 1n, q]);
    expect(allocate(2n ** 60n + 2n, [1, 1, 1])).toEqual([q + 1n, q + 1n, q + 1n]);
  });

  it('handles weights twenty orders of magnitude apart on both paths', () => {
    expect(allocate(1_000_000_000n, [1e-20, 1])).toEqual([0n, 1_000_000_000n]);
    expect(allocate(1_000_000_000n, [1, 1e-20])).toEqual([1_000_000_000n, 0n]);
    expect(allocate(2n ** 60n, [1e-20, 1])).toEqual([0n, 2n ** 60n]);
    // 10^30 * 1e-20 / (1 + 1e-20) is about 10^10: the tiny weight earns about 10^10 units.
    for (const [total, order] of [
      [10n ** 30n, [1e-20, 1]],
      [10n ** 30n, [1, 1e-20]],
      [SAFE_MAX, [1e-20, 1]],
    ] as const) {
      const parts = allocate(total, order);
      expectConserved(total, parts);
      expect(parts).toEqual(largestRemainder(total, order));
    }
    const small = allocate(10n ** 30n, [1e-20, 1])[0]!;
    expect(small === 10_000_000_000n || small === 9_999_999_999n).toBe(true);
  });

  it('refuses an empty weight list, a negative total and a weight that is not positive and finite', () => {
    expect(() => allocateUnits(10n, [])).toThrow(RangeError);
    expect(() => allocateUnits(10n, [0, 0])).toThrow(RangeError);
    expect(() => allocateUnits(10n, [1, Number.NaN])).toThrow(RangeError);
    expect(() => allocateUnits(10n, [1, -1])).toThrow(RangeError);
    expect(() => allocateUnits(-1n, [1])).toThrow(RangeError);
    expect(() => allocateUnits(2n ** 60n, [1, 0])).toThrow(RangeError);
    expect(() => allocateUnits(2n ** 60n, [1, Number.POSITIVE_INFINITY])).toThrow(RangeError);
  });

  it('returns a fresh array and leaves the weights as they were', () => {
    const list = [3, 1, 2];
    const first = allocateUnits(7n, list);
    expect(list).toEqual([3, 1, 2]);
    expect(Array.isArray(first)).toBe(true);
    expect(allocateUnits(7n, list)).not.toBe(first);
    expect(allocateUnits(7n, list)).toEqual(first);
  });
});

describe('allocateUnits: properties', () => {
  it('is exactly the largest remainder method on the float path (totals up to 2^52)', () => {
    fc.assert(
      fc.property(safeTotal, weights, (total, list) => {
        const parts = allocate(total, list);
        expectConserved(total, parts);
        expect(parts).toEqual(largestRemainder(total, list));
        idealShares(total, list).forEach((ideal, index) => {
          expect(ideal.minus(parts[index]!.toString()).abs().lt(1)).toBe(true);
        });
      }),
      { numRuns: 500 },
    );
  });

  it('is exactly the largest remainder method where float shares round across a tie or a whole unit', () => {
    // Cases where float shares alone pick the wrong part: exact ties that floats see as unequal,
    // remainders that floats order wrongly near 2^52, and a share within float error of an integer.
    const cases: Array<[bigint, number[]]> = [
      [2n, [4, 1, 1]],
      [21n, [5, 9]],
      [2_740_080_955_359_232n, [4, 5]],
      [
        4_499_909_444_083_122n,
        [3, 9.850118160247804e-10, 7.376933097839355e-8, 8.533264398574828e-7, 5.17952561378479e-14, 0.000049417412281036376, 8,
          0.000009245288372039794, 0.6390454769134521, 3.1229567527770996e-13],
      ],
      [SAFE_MAX, [1, 1, 1, 1, 1, 1, 1]],
      [SAFE_MAX - 1n, [0.1, 0.2, 0.3, 0.4]],
    ];
    for (const [total, list] of cases) {
      expect(allocate(total, list)).toEqual(largestRemainder(total, list));
    }
    expect(allocate(2n, [4, 1, 1])).toEqual([2n, 0n, 0n]);
    expect(allocate(21n, [5, 9])).toEqual([8n, 13n]);
  });

  it('is exactly the largest remainder method for many equal and nearly equal weights', () => {
    const nearlyEqual = fc.array(fc.constantFrom(1, 1 + 2 ** -52, 3, 3 - 2 ** -51, 0.1, 0.7), { minLength: 1, maxLength: 60 });
    fc.assert(
      fc.property(safeTotal, nearlyEqual, (total, list) => {
        expect(allocate(total, list)).toEqual(largestRemainder(total, list));
      }),
    );
  });

  it('is exactly the largest remainder method on the bigint path (totals above 2^52)', () => {
    fc.assert(
      fc.property(exactTotal, weights, (total, list) => {
        const parts = allocate(total, list);
        expectConserved(total, parts);
        expect(parts).toEqual(largestRemainder(total, list));
        idealShares(total, list).forEach((ideal, index) => {
          expect(ideal.minus(parts[index]!.toString()).abs().lt(1)).toBe(true);
        });
      }),
    );
  });

  it('is exactly the largest remainder method, ties to the earlier input, wherever the float shares are exact', () => {
    // Integer weights summing to a power of two make w / sum(w) exact, and total * w / sum(w) stays
    // within 53 bits for totals up to 2^36: then the float path has no rounding to hide behind.
    const dyadic = fc
      .array(fc.integer({ min: 1, max: 2 ** 12 }), { minLength: 1, maxLength: 16 })
      .map((list) => {
        const sum = list.reduce((left, right) => left + right, 0);
        const power = 2 ** Math.ceil(Math.log2(sum));
        return power === sum ? list : [...list, power - sum];
      });
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 36n }), dyadic, (total, list) => {
        expect(allocate(total, list)).toEqual(largestRemainder(total, list));
      }),
    );
  });

  it('gives the same parts whether the caller passes the exact partials of the weights or not', () => {
    fc.assert(
      fc.property(fc.oneof(safeTotal, exactTotal), weights, (total, list) => {
        expect(allocateUnits(total, list, exactPartials(list))).toEqual(allocateUnits(total, list));
      }),
    );
  });

  it('treats equal weights alike: parts differ by at most one unit, earlier ones never smaller', () => {
    fc.assert(
      fc.property(fc.oneof(safeTotal, exactTotal), weight, fc.integer({ min: 2, max: 30 }), (total, value, count) => {
        const parts = allocate(total, Array.from({ length: count }, () => value));
        expectConserved(total, parts);
        for (let index = 1; index < count; index += 1) {
          expect(parts[index - 1]! - parts[index]!).toBeGreaterThanOrEqual(0n);
        }
        expect(parts[0]! - parts[count - 1]!).toBeLessThanOrEqual(1n);
      }),
    );
  });

  it('moves each part by at most one unit when the weights are permuted', () => {
    const permuted = weights.chain((list) =>
      fc.tuple(fc.constant(list), fc.shuffledSubarray(list.map((_, index) => index), { minLength: list.length, maxLength: list.length })),
    );
    fc.assert(
      fc.property(fc.oneof(safeTotal, exactTotal), permuted, (total, [list, order]) => {
        const parts = allocate(total, list);
        const shuffled = allocate(total, order.map((index) => list[index]!));
        expectConserved(total, shuffled);
        order.forEach((from, to) => {
          const moved = shuffled[to]! - parts[from]!;
          expect(moved >= -1n && moved <= 1n).toBe(true);
        });
      }),
    );
  });

  it('is exact in a seeded sweep of totals just under 2^52, where float shares are least precise', () => {
    let seed = 0x5eed;
    const random = () => {
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
      return seed / 2 ** 32;
    };
    for (let trial = 0; trial < 2000; trial += 1) {
      const count = 2 + Math.floor(random() * 6);
      const list = Array.from({ length: count }, () => (random() < 0.5 ? 1 + Math.floor(random() * 16) : random() + 1e-9));
      const total = BigInt(2 ** 52 - Math.floor(random() * 2 ** 16));
      expect(allocate(total, list)).toEqual(largestRemainder(total, list));
    }
  });
});

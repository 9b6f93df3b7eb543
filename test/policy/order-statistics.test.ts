import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { adjacentRanks, median } from '../../src/policy/order-statistics.js';

const medianOf = (...values: number[]) => median(Float64Array.from(values));

/** The textbook median of a numerically sorted copy. */
function sortedMedian(values: readonly number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * A median-of-three adversary: this order drives the selection's partitions to shrink the range
 * by about two values at a time, so it runs out of partition depth and sorts the rest (found with
 * a McIlroy-style adversary against the selection loop). The answer must be the same.
 */
const MEDIAN_OF_THREE_KILLER = [
  0, 28, 2, 29, 4, 30, 6, 31, 8, 32, 10, 33, 12, 34, 14, 35, 16, 36, 18, 37, 20, 38, 22, 39, 24, 40, 26, 41, 42, 43, 44, 1, 3, 5, 7, 9,
  11, 13, 15, 17, 19, 21, 23, 25, 27, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63,
];

/** Lists that stress a selection: few distinct values, runs, sorted and reversed orders. */
const awkwardLists = fc.oneof(
  fc.array(fc.double({ min: -1e300, max: 1e300, noNaN: true }), { minLength: 1, maxLength: 60 }),
  fc.array(fc.constantFrom(-1, 0, 1, 2), { minLength: 1, maxLength: 60 }),
  fc.array(fc.integer({ min: -5, max: 5 }), { minLength: 1, maxLength: 300 }).map((list) => list.sort((left, right) => left - right)),
  fc.array(fc.integer({ min: -5, max: 5 }), { minLength: 1, maxLength: 300 }).map((list) => list.sort((left, right) => right - left)),
  fc.integer({ min: 1, max: 200 }).map((count) => Array.from({ length: count }, (_, index) => (index < count / 2 ? index : count - index))),
);

describe('median', () => {
  it('is the middle value of an odd count', () => {
    expect(medianOf(7)).toBe(7);
    expect(medianOf(3, 1, 2)).toBe(2);
    expect(medianOf(5, 100, -3, 4, 4)).toBe(4);
  });

  it('is the mean of the two middle values of an even count', () => {
    expect(medianOf(1, 2)).toBe(1.5);
    expect(medianOf(10, 1, 4, 2)).toBe(3);
    expect(medianOf(4, 4, 4, 9)).toBe(4);
    expect(medianOf(13.333333333333334, 2.2222222222222223)).toBe((13.333333333333334 + 2.2222222222222223) / 2);
  });

  it('orders numerically, not as text', () => {
    // As strings, '10' < '100' < '9'; numerically the middle is 10.
    expect(medianOf(100, 9, 10)).toBe(10);
    expect(medianOf(1e-7, 2, 1e21)).toBe(2);
    expect(medianOf(-1, -10, -2)).toBe(-2);
  });

  it('is right on an input that exhausts the partition depth', () => {
    expect(median(Float64Array.from(MEDIAN_OF_THREE_KILLER))).toBe(31.5);
    expect(median(Float64Array.from(MEDIAN_OF_THREE_KILLER.slice(1)))).toBe(32);
  });

  it('leaves its input untouched', () => {
    const values = Float64Array.from([3, 1, 2, 0]);
    median(values);
    expect(Array.from(values)).toEqual([3, 1, 2, 0]);
  });

  it('refuses an empty list', () => {
    expect(() => median(new Float64Array(0))).toThrow(RangeError);
  });

  it('agrees with the median of a sorted copy', () => {
    fc.assert(
      fc.property(awkwardLists, (list) => {
        expect(median(Float64Array.from(list)) + 0).toBe(sortedMedian(list) + 0);
      }),
    );
  });

  it('does not depend on the order of the values', () => {
    const permuted = awkwardLists.chain((list) =>
      fc.tuple(fc.constant(list), fc.shuffledSubarray(list, { minLength: list.length, maxLength: list.length })),
    );
    fc.assert(
      fc.property(permuted, ([list, shuffled]) => {
        expect(median(Float64Array.from(shuffled)) + 0).toBe(median(Float64Array.from(list)) + 0);
      }),
    );
  });
});

describe('adjacentRanks', () => {
  it('finds the values of two neighbouring ranks, ties included', () => {
    const values = Float64Array.from([5, -1, 3, 3, 10, 0]);
    expect(adjacentRanks(values, 1)).toEqual({ below: -1, at: 0 });
    expect(adjacentRanks(values, 3)).toEqual({ below: 3, at: 3 });
    expect(adjacentRanks(values, 5)).toEqual({ below: 5, at: 10 });
    expect(Array.from(values)).toEqual([5, -1, 3, 3, 10, 0]);
  });

  it('finds every pair of ranks of an input that exhausts the partition depth', () => {
    const values = Float64Array.from(MEDIAN_OF_THREE_KILLER);
    for (let rank = 1; rank < values.length; rank += 1) expect(adjacentRanks(values, rank)).toEqual({ below: rank - 1, at: rank });
  });

  it('refuses ranks without a rank below them inside the list', () => {
    const values = Float64Array.from([1, 2, 3]);
    expect(() => adjacentRanks(values, 0)).toThrow(RangeError);
    expect(() => adjacentRanks(values, 3)).toThrow(RangeError);
    expect(() => adjacentRanks(Float64Array.from([1]), 1)).toThrow(RangeError);
    expect(() => adjacentRanks(values, Number.NaN)).toThrow(RangeError);
  });

  it('agrees with a numeric sort at every pair of neighbouring ranks', () => {
    const listAndRank = awkwardLists
      .filter((list) => list.length >= 2)
      .chain((list) => fc.tuple(fc.constant(list), fc.integer({ min: 1, max: list.length - 1 })));
    fc.assert(
      fc.property(listAndRank, ([list, rank]) => {
        const sorted = [...list].sort((left, right) => left - right);
        const { below, at } = adjacentRanks(Float64Array.from(list), rank);
        expect([below + 0, at + 0]).toEqual([sorted[rank - 1]! + 0, sorted[rank]! + 0]);
      }),
    );
  });
});

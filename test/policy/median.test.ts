import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { median } from '../../src/policy/median.js';

/** The textbook median of a numerically sorted copy. */
function sortedMedian(values: readonly number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Lists that are awkward to order: wide magnitudes, few distinct values, runs, sorted and reversed, signed zeros. */
const awkwardLists = fc.oneof(
  fc.array(fc.double({ min: -1e300, max: 1e300, noNaN: true }), { minLength: 1, maxLength: 60 }),
  fc.array(fc.double({ min: 0, max: 1e-300, noNaN: true }), { minLength: 1, maxLength: 20 }),
  fc.array(fc.constantFrom(-1, 0, -0, 1, 2), { minLength: 1, maxLength: 60 }),
  fc.array(fc.integer({ min: -5, max: 5 }), { minLength: 1, maxLength: 300 }).map((list) => list.sort((left, right) => left - right)),
  fc.array(fc.integer({ min: -5, max: 5 }), { minLength: 1, maxLength: 300 }).map((list) => list.sort((left, right) => right - left)),
  fc.integer({ min: 1, max: 200 }).map((count) => Array.from({ length: count }, (_, index) => (index < count / 2 ? index : count - index))),
);

describe('median: examples', () => {
  it('is the middle value of an odd count', () => {
    expect(median([7])).toBe(7);
    expect(median([3, 1, 2])).toBe(2);
    expect(median([5, 100, -3, 4, 4])).toBe(4);
  });

  it('is the mean of the two middle values of an even count', () => {
    expect(median([1, 2])).toBe(1.5);
    expect(median([10, 1, 4, 2])).toBe(3);
    expect(median([4, 4, 4, 9])).toBe(4);
    expect(median([13.333333333333334, 2.2222222222222223])).toBe((13.333333333333334 + 2.2222222222222223) / 2);
  });

  it('orders numerically, not as text', () => {
    // As strings, '10' < '100' < '9'; numerically the middle is 10.
    expect(median([100, 9, 10])).toBe(10);
    expect(median([1e-7, 2, 1e21])).toBe(2);
    expect(median([-1, -10, -2])).toBe(-2);
    // Service rates far below 2^-52 order among themselves like any others.
    expect(median([3e-23, 1e-23, 2e-23])).toBe(2e-23);
  });

  it('leaves its input untouched', () => {
    const values = [3, 1, 2, 0];
    expect(median(values)).toBe(1.5);
    expect(values).toEqual([3, 1, 2, 0]);
  });

  it('refuses an empty list', () => {
    expect(() => median([])).toThrow(RangeError);
  });
});

describe('median: properties', () => {
  it('agrees with the median of a sorted copy', () => {
    fc.assert(
      fc.property(awkwardLists, (list) => {
        // + 0 folds -0 into 0: the two sorts may place signed zeros differently.
        expect(median(list) + 0).toBe(sortedMedian(list) + 0);
      }),
    );
  });

  it('leaves every input list as it was', () => {
    fc.assert(
      fc.property(awkwardLists, (list) => {
        const before = [...list];
        median(list);
        expect(list).toStrictEqual(before);
      }),
    );
  });

  it('does not depend on the order of the values', () => {
    const permuted = awkwardLists.chain((list) =>
      fc.tuple(fc.constant(list), fc.shuffledSubarray(list, { minLength: list.length, maxLength: list.length })),
    );
    fc.assert(
      fc.property(permuted, ([list, shuffled]) => {
        expect(median(shuffled) + 0).toBe(median(list) + 0);
      }),
    );
  });

  it('lies between the smallest and the largest value', () => {
    fc.assert(
      fc.property(awkwardLists, (list) => {
        const value = median(list);
        expect(value).toBeGreaterThanOrEqual(Math.min(...list));
        expect(value).toBeLessThanOrEqual(Math.max(...list));
      }),
    );
  });
});

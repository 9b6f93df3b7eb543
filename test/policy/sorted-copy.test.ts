import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sortedCopy } from '../../src/policy/sorted-copy.js';

/** What a Float64Array's own numeric sort gives: the reference for both ways of sorting. */
const typedSort = (values: readonly number[]): number[] => [...Float64Array.from(values).sort()];

describe('sortedCopy', () => {
  it('orders short and long lists numerically, -0 before 0', () => {
    expect(Array.from(sortedCopy([3, -1, 0, -0, 2]))).toEqual([-1, -0, 0, 2, 3]);
    expect(Object.is(sortedCopy([0, -0])[0], -0)).toBe(true);
    const long = Array.from({ length: 100 }, (_, index) => (index * 37) % 100);
    expect(Array.from(sortedCopy(long))).toEqual(Array.from({ length: 100 }, (_, index) => index));
  });

  it('leaves its input as it was', () => {
    const values = [3, 1, 2];
    sortedCopy(values);
    expect(values).toEqual([3, 1, 2]);
  });

  it('sorts any list of finite numbers exactly as a Float64Array does, signed zeros included', () => {
    const finite = fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(0, -0, 1, -1));
    fc.assert(
      fc.property(fc.array(finite, { maxLength: 80 }), (values) => {
        const sorted = Array.from(sortedCopy(values));
        const reference = typedSort(values);
        expect(sorted.length).toBe(reference.length);
        sorted.forEach((value, index) => expect(Object.is(value, reference[index])).toBe(true));
      }),
      { numRuns: 2000 },
    );
  });
});

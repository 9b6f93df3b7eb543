/** Up to this many values, a copy is sorted by insertion: no typed array to allocate, and few moves. */
const INSERTION_SORT_COUNT_MAX = 32;

/**
 * An ascending copy of finite numbers, the input left as it was. A short list (an 8-worker job's
 * rates or remainders) is sorted by insertion in a plain array: four times as fast as a sorted
 * Float64Array, which allocates a buffer of its own. A long one is sorted as a Float64Array, whose
 * numeric sort is native and O(n log n) whatever the order of the input.
 */
export function sortedCopy(values: readonly number[]): ArrayLike<number> {
  if (values.length > INSERTION_SORT_COUNT_MAX) return Float64Array.from(values).sort();
  const sorted = values.slice();
  for (let index = 1; index < sorted.length; index += 1) {
    const value = sorted[index]!;
    let slot = index;
    while (slot > 0 && isAfter(sorted[slot - 1]!, value)) {
      sorted[slot] = sorted[slot - 1]!;
      slot -= 1;
    }
    sorted[slot] = value;
  }
  return sorted;
}

/** Ordered as a Float64Array orders numbers: -0 before 0. */
function isAfter(left: number, right: number): boolean {
  return left > right || (Object.is(left, 0) && Object.is(right, -0));
}

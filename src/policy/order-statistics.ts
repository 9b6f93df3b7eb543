/**
 * Order statistics in linear expected time. A full sort of 100000 rates costs more than the rest
 * of a delta's arithmetic; selection finds one rank without ordering the others.
 */

import { ScratchDoubles } from './scratch.js';

/** Selection reorders what it selects from: the caller's values are copied here first. */
const selectionScratch = new ScratchDoubles();

/** The values copied into the selection scratch, which selection may then reorder. */
function scratchCopy(values: Float64Array): Float64Array {
  const copy = selectionScratch.take(values.length);
  copy.set(values);
  return copy;
}

/** The median of a non-empty list: the mean of the two middle values for an even count. */
export function median(values: Float64Array): number {
  const count = values.length;
  if (count === 0) throw new RangeError('median of an empty list');
  if (count % 2 === 1) return selectInPlace(scratchCopy(values), count >> 1);
  const { below, at } = adjacentRanks(values, count >> 1);
  return (below + at) / 2;
}

/** The values of ranks `rank - 1` and `rank` (0-based, ascending), for 1 <= rank < length: one selection. */
export function adjacentRanks(values: Float64Array, rank: number): { below: number; at: number } {
  if (!(rank >= 1 && rank < values.length)) throw new RangeError(`ranks ${rank - 1} and ${rank} outside a list of ${values.length}`);
  const scratch = scratchCopy(values);
  const at = selectInPlace(scratch, rank);
  // After selection every value left of `rank` is no greater: the rank below is their maximum.
  let below = -Infinity;
  for (let index = 0; index < rank; index += 1) below = Math.max(below, scratch[index]!);
  return { below, at };
}

/**
 * Hoare's selection with a median-of-three pivot. Crafted inputs cannot make it quadratic: past
 * a depth of 2 log2 n partitions it sorts what is left, bounding the cost at n log n.
 */
function selectInPlace(values: Float64Array, rank: number): number {
  let low = 0;
  let high = values.length - 1;
  let depthLeft = 2 * Math.ceil(Math.log2(values.length + 1));
  while (high > low) {
    if (depthLeft === 0) {
      const rest = values.subarray(low, high + 1).sort();
      return rest[rank - low]!;
    }
    depthLeft -= 1;
    const pivot = medianOfThree(values[low]!, values[(low + high) >>> 1]!, values[high]!);
    let left = low;
    let right = high;
    while (left <= right) {
      while (values[left]! < pivot) left += 1;
      while (values[right]! > pivot) right -= 1;
      if (left <= right) {
        const swapped = values[left]!;
        values[left] = values[right]!;
        values[right] = swapped;
        left += 1;
        right -= 1;
      }
    }
    if (rank <= right) high = right;
    else if (rank >= left) low = left;
    else return values[rank]!;
  }
  return values[rank]!;
}

function medianOfThree(first: number, second: number, third: number): number {
  return Math.max(Math.min(first, second), Math.min(Math.max(first, second), third));
}

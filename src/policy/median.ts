/** The median of a non-empty list: the mean of the two middle values for an even count. */
export function median(values: Float64Array): number {
  if (values.length === 0) throw new RangeError('median of an empty list');
  const sorted = values.slice().sort();
  const middle = sorted.length >> 1;
  if (sorted.length % 2 === 1) return sorted[middle]!;
  return (sorted[middle - 1]! + sorted[middle]!) / 2;
}

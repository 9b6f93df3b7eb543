/**
 * The correctly rounded sum of finite doubles (Shewchuk's algorithm, as in Python's math.fsum).
 * Being correctly rounded, it does not depend on the order of the values: permuting a job's
 * assignments cannot move any ratio by even one ulp.
 */
export function exactSum(values: ArrayLike<number>): number {
  return roundPartials(exactPartials(values));
}

/**
 * Non-overlapping doubles, smallest magnitude first, whose exact sum is the exact sum of the
 * values: a few numbers that carry the sum without any rounding.
 */
export function exactPartials(values: ArrayLike<number>): number[] {
  const partials: number[] = [];
  let partialCount = 0;
  for (let index = 0; index < values.length; index += 1) {
    let value = values[index]!;
    let kept = 0;
    for (let slot = 0; slot < partialCount; slot += 1) {
      // Knuth's two-sum: high + low is exactly partial + value, without a data-dependent branch.
      const partial = partials[slot]!;
      const high = partial + value;
      const valuePart = high - partial;
      const low = partial - (high - valuePart) + (value - valuePart);
      if (low !== 0) {
        partials[kept] = low;
        kept += 1;
      }
      value = high;
    }
    partials[kept] = value;
    partialCount = kept + 1;
  }
  partials.length = partialCount;
  return partials;
}

/** Adds the non-overlapping partials from the top, rounding half-way cases correctly. */
export function roundPartials(partials: readonly number[]): number {
  let index = partials.length;
  if (index === 0) return 0;
  index -= 1;
  let high = partials[index]!;
  let low = 0;
  while (index > 0) {
    const previous = high;
    index -= 1;
    const next = partials[index]!;
    high = previous + next;
    low = next - (high - previous);
    if (low !== 0) break;
  }
  const below = index > 0 ? partials[index - 1]! : 0;
  if ((low < 0 && below < 0) || (low > 0 && below > 0)) {
    const doubled = low * 2;
    const candidate = high + doubled;
    if (doubled === candidate - high) high = candidate;
  }
  return high;
}

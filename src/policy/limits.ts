/**
 * The bounds a deployment works within, beside the model itself: the money scale and the size
 * of one job. The ranges of single input fields live in input-ranges.ts.
 */

/** Credit scale range: 10^18 units per credit keeps every budget an exact bigint and a short string. */
export const CREDIT_SCALE_MIN = 0;
export const CREDIT_SCALE_MAX = 18;
export const CREDIT_SCALE_DEFAULT = 9;

/** Default bound on the assignments of one job; a deployment may configure another within the range below. */
export const ASSIGNMENTS_MAX_DEFAULT = 10_000;
/**
 * The largest bound a deployment may configure. The weight floors of the model cannot bind up to
 * here (see worker-factors.ts), and a job this size still fits in memory many times over.
 */
export const ASSIGNMENTS_MAX_CEILING = 1_000_000;

export const BYTES_PER_GIB = 2 ** 30;

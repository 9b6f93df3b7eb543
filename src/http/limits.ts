/** Request limits of the HTTP layer: body bytes and batch sizes. */
/** A generous bound on one assignment in JSON: ids of up to 256 characters and six numbers. */
export const ASSIGNMENT_JSON_BYTES_MAX = 512;
/** Room for the fields around the assignments and for whitespace. */
const BODY_HEADROOM_BYTES = 64 * 1024;

/** The default body limit: enough for a request carrying `max_assignments` workers. */
export function bodyLimitBytesFor(max_assignments: number): number {
  return max_assignments * ASSIGNMENT_JSON_BYTES_MAX + BODY_HEADROOM_BYTES;
}

/** Default bound on the updates of one batch (BATCH_MAX_UPDATES). */
export const BATCH_MAX_UPDATES_DEFAULT = 1000;
/** The largest bound a deployment may configure. */
export const BATCH_MAX_UPDATES_CEILING = 100_000;

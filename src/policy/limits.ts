/** Largest token count (and `total_columns`) accepted: counters are unsigned 32-bit on the wire. */
export const TOKEN_COUNT_MAX = 2 ** 32 - 1;

/** Largest byte count or `execution_time_ms` accepted: beyond it a JSON number stops being an exact integer. */
export const BYTE_COUNT_MAX = Number.MAX_SAFE_INTEGER;

export const WORKER_ID_LENGTH_MIN = 1;
export const WORKER_ID_LENGTH_MAX = 256;

/** Default bound on the assignments of one job; the service may configure another. */
export const ASSIGNMENTS_MAX_DEFAULT = 10_000;

/** Credit scale range: 10^18 units per credit keeps every budget an exact bigint and a short string. */
export const CREDIT_SCALE_MIN = 0;
export const CREDIT_SCALE_MAX = 18;
export const CREDIT_SCALE_DEFAULT = 9;

export const BYTES_PER_GIB = 2 ** 30;

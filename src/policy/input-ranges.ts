/**
 * The range of every numeric input field, in one table: the input rules enforce it and the
 * published schemas document it. The model's own types set the ranges: token counts, columns and
 * capacity units are unsigned 32-bit; byte counts and times are unsigned 64-bit, cut at 2^53 - 1
 * where a JSON number stops being an exact integer.
 */

/** Largest unsigned 32-bit integer: the model's u32 counters. */
export const UINT32_MAX = 2 ** 32 - 1;
/** Largest integer a double (and so a JSON number) holds exactly. */
export const SAFE_INTEGER_MAX = Number.MAX_SAFE_INTEGER;

export interface IntegerRange {
  readonly min: number;
  readonly max: number;
}

const TOKEN_COUNT: IntegerRange = { min: 0, max: UINT32_MAX };
const BYTE_COUNT: IntegerRange = { min: 0, max: SAFE_INTEGER_MAX };

export const INPUT_RANGES = {
  prompt_tokens: TOKEN_COUNT,
  completion_tokens: TOKEN_COUNT,
  requested_completion_tokens: TOKEN_COUNT,
  actual_completion_tokens: TOKEN_COUNT,
  frontier_completion_tokens: TOKEN_COUNT,
  accounted_completion_tokens: TOKEN_COUNT,
  total_model_bytes: BYTE_COUNT,
  /** A model has at least one column to split. */
  total_columns: { min: 1, max: UINT32_MAX },
  execution_time_ms: BYTE_COUNT,
  /** The model floors capacity at 1: zero capacity is refused rather than silently raised. */
  assigned_capacity_units: { min: 1, max: UINT32_MAX },
  /** A shard holds at least one column, so it starts before the last possible end. */
  shard_column_start: { min: 0, max: UINT32_MAX - 1 },
  shard_column_end: { min: 1, max: UINT32_MAX },
  /** The model treats no memory as full pressure: zero is refused rather than silently read. */
  available_memory_bytes: { min: 1, max: SAFE_INTEGER_MAX },
  reserved_completion_tokens: TOKEN_COUNT,
} as const satisfies Record<string, IntegerRange>;

export type RangedField = keyof typeof INPUT_RANGES;

/** The tokens one request prices add up to at most this: they must fit the model's u32 counters. */
export const REQUEST_TOKENS_MAX = UINT32_MAX;

/** Worker ids, counted in Unicode code points. */
export const WORKER_ID_LENGTH: IntegerRange = { min: 1, max: 256 };

/** Job ids, counted in Unicode code points: they name the job's accounts in ledger postings. */
export const JOB_ID_LENGTH: IntegerRange = { min: 1, max: 128 };

/** The rule a value outside its range breaks, in the words every answer uses. */
export function rangeRule(range: IntegerRange): string {
  return `must be an integer from ${range.min} to ${range.max}`;
}

/**
 * A JSON escape can carry half a surrogate pair ("\ud800"), which no UTF-8 text holds: such an
 * id could not be written to a ledger, a log or a signed answer byte for byte.
 */
export const WELL_FORMED_RULE = 'must be well-formed Unicode';

/**
 * Whether the text holds no lone surrogate. V8 answers at once for a string of one-byte
 * characters, as ids nearly always are, where the regular expression used before scanned every
 * character of every worker id.
 */
export function isWellFormedText(text: string): boolean {
  return text.isWellFormed();
}

export function isInRange(value: unknown, range: IntegerRange): value is number {
  return Number.isInteger(value) && (value as number) >= range.min && (value as number) <= range.max;
}

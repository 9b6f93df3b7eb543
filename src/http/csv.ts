/**
 * Worker credits as CSV, for spreadsheets: one row a worker, a header row with the field names,
 * every value written as the JSON answer writes it (credits as the same decimal strings, ratios
 * as JSON numbers). Records follow RFC 4180: CRLF line ends, and a field holding a comma, a
 * double quote, CR or LF is enclosed in double quotes, with its quotes doubled.
 */
import type { WorkerCredit } from '../policy/index.js';

export const CSV_CONTENT_TYPE = 'text/csv; charset=utf-8';

/** The columns, in the order the JSON answer lists a worker's fields. */
export const WORKER_CREDIT_COLUMNS = [
  'worker_id',
  'credits',
  'compute_share',
  'throughput_multiplier',
  'resource_pressure_multiplier',
  'normalized_contribution_share',
  'measured_service_rate',
  'reference_service_rate',
  'memory_pressure',
] as const satisfies readonly (keyof WorkerCredit)[];

// A field added to WorkerCredit must be added to the columns too: this line stops compiling until it is.
const everyFieldIsAColumn: Exclude<keyof WorkerCredit, (typeof WORKER_CREDIT_COLUMNS)[number]> extends never ? true : never = true;
void everyFieldIsAColumn;

/**
 * Spreadsheets run a cell that starts with = + - @ (or a tab, CR or LF before one) as a formula,
 * so a worker_id such as `=HYPERLINK(...)` would run on the reader's machine (CSV injection).
 * Such a text cell is written with a leading apostrophe, which spreadsheets show as text and
 * never evaluate. A text cell that itself starts with an apostrophe gets one more, so the rule
 * reverses without doubt: drop one leading apostrophe from a text cell that has one.
 * Numbers and credit amounts never start with these characters, so they are never changed.
 */
const FORMULA_START = /^[=+\-@\t\r\n']/;
const NEEDS_QUOTES = /[",\r\n]/;

/** One field: guarded against formulas if it is text, then quoted if RFC 4180 requires it. */
function fieldOf(value: string | number): string {
  const text = typeof value === 'number' ? JSON.stringify(value) : FORMULA_START.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function recordOf(fields: readonly (string | number)[]): string {
  return `${fields.map(fieldOf).join(',')}\r\n`;
}

/** The CSV of a list of worker credits: the header record, then one record per worker, in order. */
export function workerCreditsCsv(workers: readonly WorkerCredit[]): string {
  return recordOf(WORKER_CREDIT_COLUMNS) + workers.map((worker) => recordOf(WORKER_CREDIT_COLUMNS.map((column) => worker[column]))).join('');
}

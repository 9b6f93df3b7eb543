/** The text/csv answer of the routes that split credits among workers (src/http/csv.ts writes it). */
import { z } from 'zod';
import type { WorkerCredit } from '../../policy/index.js';
import { CSV_CONTENT_TYPE, WORKER_CREDIT_COLUMNS, workerCreditsCsv } from '../csv.js';
import { described, type SchemaDocs } from './docs.js';

/** The OpenAPI media type entry of the CSV answer, whose example is the CSV of `workers`. */
export function workerCreditsCsvMedia(docs: SchemaDocs, workers: readonly WorkerCredit[]) {
  return {
    [CSV_CONTENT_TYPE]: {
      schema: described(docs, z.string(), {
        description: `With Accept: text/csv preferred: one record per worker, in request order, after a header record naming the columns (${WORKER_CREDIT_COLUMNS.join(', ')}). Values are written as the JSON answer writes them; records end in CRLF and are quoted as RFC 4180 says. A text cell that starts with = + - @, a tab, CR, LF or an apostrophe gets a leading apostrophe, so a spreadsheet never runs it as a formula.`,
      }),
      example: workerCreditsCsv(workers),
    },
  };
}

/**
 * The answers that split credits among workers (/contribution, /realtime-delta) come as JSON, or,
 * for a request that prefers `Accept: text/csv`, as the CSV of their workers. Either way the route
 * returns the answer object (metrics count its credits) before it is written out, and the CSV
 * bytes are what a signature's Content-Digest covers. Problems are answered by the error
 * handler as application/problem+json whatever Accept says.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { WorkerCredit } from '../policy/index.js';
import Negotiator from 'negotiator';
import { CSV_CONTENT_TYPE, workerCreditsCsv } from './csv.js';

/**
 * The representations offered, JSON first: it answers a request without Accept, or one that accepts
 * neither (the header is then disregarded, as RFC 9110 section 12.5.1 allows, rather than refused).
 * A range naming parameters must match these, so `text/csv; header=absent` does not choose the CSV,
 * which always has a header record (RFC 4180's header=present).
 */
const JSON_MEDIA_TYPE = 'application/json; charset=utf-8';
const CSV_MEDIA_TYPE = 'text/csv; charset=utf-8; header=present';

/** `answer` as the route returns it; with text/csv preferred, written as the CSV of `workersOf(answer)`. */
export function answerWithWorkerCredits<Answer>(
  request: FastifyRequest,
  reply: FastifyReply,
  answer: Answer,
  workersOf: (answer: Answer) => readonly WorkerCredit[],
): Answer {
  if (representWorkerCredits(reply, prefersCsv(request))) {
    reply.serializer((payload: unknown) => (reply.statusCode === 200 ? workerCreditsCsv(workersOf(payload as Answer)) : problemJson(reply, payload)));
  }
  return answer;
}

/**
 * A problem answered once the serializer is chosen (a hook that fails after the route answered)
 * goes through this same reply, and a reply's own serializer skips Fastify's JSON path: write it
 * as that path would, charset included.
 */
function problemJson(reply: FastifyReply, payload: unknown): string {
  const contentType = String(reply.getHeader('content-type'));
  if (!/;\s*charset=/i.test(contentType)) reply.header('content-type', `${contentType}; charset=utf-8`);
  return JSON.stringify(payload);
}

/**
 * Accept values that can only choose the JSON, as most callers send them (none, or an HTTP
 * client's default): answered without parsing. Negotiator reads each of them as JSON too, which a
 * test checks; parsing the header cost a small request more than its validation did.
 */
export const JSON_ONLY_ACCEPTS: ReadonlySet<string | undefined> = new Set([undefined, '', '*/*', 'application/json']);

/** Whether the request prefers the CSV of the workers to the JSON answer. */
export function prefersCsv(request: Pick<FastifyRequest, 'headers'>): boolean {
  const { accept } = request.headers;
  return JSON_ONLY_ACCEPTS.has(accept) ? false : negotiatedCsv(accept);
}

/** Whether Negotiator, reading `accept` in full, chooses the CSV. */
export function negotiatedCsv(accept: string | undefined): boolean {
  return new Negotiator({ headers: accept === undefined ? {} : { accept } }).mediaType([JSON_MEDIA_TYPE, CSV_MEDIA_TYPE]) === CSV_MEDIA_TYPE;
}


/** The headers of either representation, whoever writes its bytes; returns `csv`. */
export function representWorkerCredits(reply: FastifyReply, csv: boolean): boolean {
  // The same URL answers two representations: a cache must key them by Accept.
  reply.header('vary', 'Accept');
  if (csv) reply.type(CSV_CONTENT_TYPE);
  return csv;
}

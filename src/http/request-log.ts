import { LogController, type FastifyBaseLogger, type FastifyReply, type FastifyRequest } from 'fastify';
import { pino, type Logger } from 'pino';
import { problemTypeOf } from './problem.js';
import { urlPath } from './url-path.js';

/** The fields of the line logged when a request completes. */
export interface RequestLineFields {
  readonly method: string;
  readonly url: string;
  readonly status_code: number;
  readonly response_time_ms: number;
  readonly problem_type?: string;
}

export const REQUEST_COMPLETED_MESSAGE = 'request completed';
/** pino's number for the info level. */
const INFO_LEVEL = 30;

/**
 * Logs one line per request, when it completes, under the label `request_id`. The line names the
 * path without its query string (a query may carry tokens or personal data, and no route reads
 * one) and, for an answer that is a problem, its type. Only a bug's 500 is logged as an error:
 * a client's mistake or a designed 503 (shedding, shutting down) is the service working.
 */
export class RequestLogController extends LogController {
  /** Whether the app's logger is a pino logger whose info() lines this can write itself. */
  readonly #writes_lines: boolean;

  constructor(logger: FastifyBaseLogger | undefined) {
    super({ requestIdLogLabel: 'request_id' });
    this.#writes_lines = logger !== undefined && writesPlainLines(logger);
  }

  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const problem_type = problemTypeOf(request);
    const fields = { method: request.method, url: urlPath(request.url), status_code: reply.statusCode, response_time_ms: reply.elapsedTime };
    const line: RequestLineFields = problem_type === undefined ? fields : { ...fields, problem_type };
    if (error) reply.log.error({ ...line, err: error }, 'request errored');
    else if (reply.statusCode === 500) reply.log.error(line, 'request failed');
    else if (!this.#writes_lines) reply.log.info(line, REQUEST_COMPLETED_MESSAGE);
    else if ((reply.log as Logger).isLevelEnabled('info')) writeRequestCompleted(reply.log, line);
  }
}

const { chindingsSym, endSym, lsCacheSym, messageKeySym, mixinSym, nestedKeySym, needsMetadataGsym, serializersSym, streamSym, stringifiersSym, timeSym, wildcardFirstSym } = pino.symbols;
/** At run time among pino.symbols, though its types leave it out. */
const msgPrefixSym = (pino.symbols as unknown as Record<string, symbol>)['msgPrefixSym']!;
const formattersSym = Symbol.for('pino.formatters');
const hooksSym = Symbol.for('pino.hooks');

/**
 * Writes `logger.info(fields, 'request completed')` as pino writes it, byte for byte
 * (test/http/request-log.test.ts compares the two): the level, the time, the logger's bindings,
 * the fields, the message. pino formats any object it is given key by key, and that cost a small
 * request about 5 us in the server (BENCHMARKS.md); these fields are known, so the line is put
 * together directly and handed to pino's own destination.
 */
export function writeRequestCompleted(logger: FastifyBaseLogger, fields: RequestLineFields): void {
  const parts = logger as unknown as Record<symbol, unknown>;
  const levelField = (parts[lsCacheSym] as Record<number, string>)[INFO_LEVEL]!;
  const time = (parts[timeSym] as () => string)();
  const problem = fields.problem_type === undefined ? '' : `,"problem_type":${JSON.stringify(fields.problem_type)}`;
  (parts[streamSym] as { write(line: string): unknown }).write(
    `${levelField}${time}${parts[chindingsSym] as string}` +
      `,"method":${JSON.stringify(fields.method)},"url":${JSON.stringify(fields.url)}` +
      `,"status_code":${jsonNumber(fields.status_code)},"response_time_ms":${jsonNumber(fields.response_time_ms)}${problem}` +
      `,"${parts[messageKeySym] as string}":"${REQUEST_COMPLETED_MESSAGE}"${parts[endSym] as string}`,
  );
}

/**
 * As pino writes a number: one that is not finite is null. JSON.stringify rather than String():
 * String() keeps every float it formats in V8's number-to-string cache, and the response time is
 * another float each request; a quote cost 1.5 to 2.3 us less without it (BENCHMARKS.md).
 */
function jsonNumber(value: number): string {
  return JSON.stringify(value);
}

/**
 * Whether info() on this logger and on its children writes exactly what writeRequestCompleted
 * writes: a pino logger with none of the options that change a line (a mixin, a nested key, a
 * message prefix, a log formatter, a stream-write hook, serializers or redaction for these
 * fields, a stream that takes metadata). Checked once, when the app is built.
 */
export function writesPlainLines(logger: FastifyBaseLogger): boolean {
  const parts = logger as unknown as Record<symbol, unknown>;
  const formatters = parts[formattersSym] as { log?: unknown } | undefined;
  const hooks = parts[hooksSym] as { streamWrite?: unknown } | undefined;
  const serializers = (parts[serializersSym] ?? {}) as Record<string, unknown>;
  const redactions = (parts[stringifiersSym] ?? {}) as Record<string | symbol, unknown>;
  const stream = parts[streamSym] as Record<symbol, unknown> | undefined;
  const lineKeys: readonly (keyof RequestLineFields)[] = ['method', 'url', 'status_code', 'response_time_ms', 'problem_type'];
  return (
    typeof parts[timeSym] === 'function' &&
    typeof parts[chindingsSym] === 'string' &&
    typeof parts[endSym] === 'string' &&
    typeof (parts[lsCacheSym] as Record<number, unknown> | undefined)?.[INFO_LEVEL] === 'string' &&
    typeof (stream as { write?: unknown } | undefined)?.write === 'function' &&
    stream?.[needsMetadataGsym] !== true &&
    !parts[mixinSym] &&
    !parts[nestedKeySym] &&
    !parts[msgPrefixSym] &&
    formatters?.log === undefined &&
    !hooks?.streamWrite &&
    redactions[wildcardFirstSym] === undefined &&
    lineKeys.every((key) => serializers[key] === undefined && redactions[key] === undefined)
  );
}

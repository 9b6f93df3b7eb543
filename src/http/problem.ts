/**
 * The one place that turns errors into RFC 9457 problem responses. Client mistakes become 4xx
 * bodies that name each field and rule; anything else is a bug: logged in full, answered as a
 * bare 500 that shows no internals.
 */
import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { PolicyInputError, ReservationExceededError, type PolicyViolation } from '../policy/index.js';
import { ForbiddenKeyError, InvalidEncodingError } from './json-body.js';
import { OverloadedError } from './load-shedding.js';
import { RateLimitedError } from './rate-limit.js';
import { REQUEST_ID_HEADER } from './request-id.js';
import { describeSchemaIssues, type DescribedIssues } from './schema-issues.js';
import type { Problem } from './schemas/problem.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export const PROBLEM_TYPES = {
  invalidRequest: 'urn:divy:problem:invalid-request',
  malformedJson: 'urn:divy:problem:malformed-json',
  forbiddenKey: 'urn:divy:problem:forbidden-key',
  unsupportedMediaType: 'urn:divy:problem:unsupported-media-type',
  ruleViolation: 'urn:divy:problem:policy-rule-violation',
  reservationExceeded: 'urn:divy:problem:reservation-exceeded',
  bodyTooLarge: 'urn:divy:problem:body-too-large',
  notFound: 'urn:divy:problem:not-found',
  // Who may call what (src/http/auth.ts) and how often (src/http/rate-limit.ts).
  unauthorized: 'urn:divy:problem:unauthorized',
  forbidden: 'urn:divy:problem:forbidden',
  rateLimited: 'urn:divy:problem:rate-limited',
  unavailable: 'urn:divy:problem:shutting-down',
  // Load shedding (src/http/load-shedding.ts).
  overloaded: 'urn:divy:problem:overloaded',
  // Connection-level refusals, written by src/http/connection-limits.ts.
  requestTimeout: 'urn:divy:problem:request-timeout',
  headersTooLarge: 'urn:divy:problem:headers-too-large',
  malformedRequest: 'urn:divy:problem:malformed-request',
  expectationFailed: 'urn:divy:problem:expectation-failed',
  generic: 'about:blank',
} as const;

/** A problem body before it names its request. */
export type ProblemFields = Omit<Problem, 'request_id'>;

/** /readyz while the replica drains, before its listener closes (src/app.ts). */
export const NOT_READY_PROBLEM: ProblemFields = {
  type: PROBLEM_TYPES.unavailable,
  title: 'Service Unavailable',
  status: 503,
  detail: 'The service is shutting down; it still serves requests until the listener closes, but takes no new traffic.',
};

/** Any request but /healthz once the listener is closing (src/app.ts). */
export const SHUTTING_DOWN_PROBLEM: ProblemFields = {
  type: PROBLEM_TYPES.unavailable,
  title: 'Service Unavailable',
  status: 503,
  detail: 'The service is shutting down; retry on another replica.',
};

/** The problem type each request was answered with, for its log line (src/http/request-log.ts). */
const answeredProblemTypes = new WeakMap<FastifyRequest, string>();

export function problemTypeOf(request: FastifyRequest): string | undefined {
  return answeredProblemTypes.get(request);
}

export function sendProblem(request: FastifyRequest, reply: FastifyReply, problem: ProblemFields): FastifyReply {
  answeredProblemTypes.set(request, problem.type);
  return reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).send({ ...problem, request_id: request.id });
}

export function handleError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const problem = clientProblem(error, request.body);
  if (problem !== undefined) return sendProblem(request, reply, problem);
  request.log.error({ err: error, problem_type: PROBLEM_TYPES.generic }, 'request failed on a bug');
  return sendProblem(request, reply, internalError(request.id));
}

/** The answer to a bug: the request id to find it in the logs by, and nothing of the error. */
export function internalError(request_id: string): ProblemFields {
  return {
    type: PROBLEM_TYPES.generic,
    title: 'Internal Server Error',
    status: 500,
    detail: `The service failed to answer; the failure is logged under request id ${request_id}.`,
  };
}

/** Fastify's own errors before routing, such as a URL that is not valid percent-encoding. */
export function handleFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  reply.header(REQUEST_ID_HEADER, request.id);
  return sendProblem(request, reply, {
    type: PROBLEM_TYPES.generic,
    title: 'Bad Request',
    status: 400,
    detail: error.message,
  });
}

export function handleNotFound(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendProblem(request, reply, {
    type: PROBLEM_TYPES.notFound,
    title: 'Not Found',
    status: 404,
    detail: `No route serves ${request.method} ${request.url.split('?')[0]}; see /docs for the API.`,
  });
}

/**
 * The problem a client error answers, for an error raised while answering `body`; undefined
 * when the error is not the client's, which is a bug. Batches call it once per update, so each
 * update gets the body its own request would get.
 */
export function clientProblem(error: unknown, body: unknown): ProblemFields | undefined {
  if (error instanceof PolicyInputError) return ruleViolation(error);
  if (error instanceof ReservationExceededError) return reservationExceeded(error);
  if (hasZodFastifySchemaValidationErrors(error)) return invalidRequest(describeSchemaIssues(error.validation, body));
  if (error instanceof ForbiddenKeyError) return forbiddenKey(error);
  if (error instanceof InvalidEncodingError) return invalidEncoding();
  if (error instanceof RateLimitedError) return rateLimited(error);
  if (error instanceof OverloadedError) return overloadedProblem(error.pressure, error.retry_after_s);
  return fastifyProblem(error);
}

function forbiddenKey(error: ForbiddenKeyError): ProblemFields {
  return {
    type: PROBLEM_TYPES.forbiddenKey,
    title: 'Forbidden key',
    status: 400,
    detail: 'The request body holds a key that could alter object prototypes (__proto__, or constructor holding prototype); remove it.',
    errors: [{ path: error.path, message: 'is a forbidden key' }],
  };
}

/** Retry-After is set by the rate limiter itself, on the reply, before it throws. */
function rateLimited(error: RateLimitedError): ProblemFields {
  return rateLimitedProblem(error.per_minute, error.retry_after_seconds);
}

export function rateLimitedProblem(per_minute: number, retry_after_seconds: number): ProblemFields {
  return {
    type: PROBLEM_TYPES.rateLimited,
    title: 'Too Many Requests',
    status: 429,
    detail: `More than ${per_minute} requests in a minute; retry after ${retry_after_seconds} s (Retry-After).`,
  };
}

/** Not the client's mistake, nor a bug: the answer tells the client when to come back. Retry-After is set by the shedding hook. */
export function overloadedProblem(pressure: string, retry_after_s: number): ProblemFields {
  return {
    type: PROBLEM_TYPES.overloaded,
    title: 'Service Unavailable',
    status: 503,
    detail: `The service is shedding load (${pressure} over its limit); retry after ${retry_after_s} s (Retry-After), or on another replica.`,
  };
}

/** Bytes that are not UTF-8 are not JSON (RFC 8259, section 8.1): malformed JSON, told apart by its detail. */
function invalidEncoding(): ProblemFields {
  return {
    type: PROBLEM_TYPES.malformedJson,
    title: 'Malformed JSON',
    status: 400,
    detail: 'The request body is not valid UTF-8, so not valid JSON.',
  };
}

/** A body that does not match its schema: `errors` as schema-issues.ts describes them, the count of all in `detail`. */
export function invalidRequest({ errors, count }: DescribedIssues): ProblemFields {
  return {
    type: PROBLEM_TYPES.invalidRequest,
    title: 'Request does not match the schema',
    status: 400,
    detail: `${countOf(count, 'field is', 'fields are')} missing, unknown or of the wrong type${listedSuffix(errors.length, count)}.`,
    errors,
  };
}

function ruleViolation(error: PolicyInputError): ProblemFields {
  const total = error.violation_count;
  return {
    type: PROBLEM_TYPES.ruleViolation,
    title: 'Input breaks a rule of the credit policy',
    status: 422,
    detail: `${countOf(total, 'rule violation', 'rule violations')}${listedSuffix(error.violations.length, total)}.`,
    errors: error.violations.map((violation: PolicyViolation) => ({ path: violation.path, message: violation.message })),
  };
}

function reservationExceeded(error: ReservationExceededError): ProblemFields {
  const tokens = countOf(error.excess_tokens, 'token', 'tokens');
  return {
    type: PROBLEM_TYPES.reservationExceeded,
    title: 'The job goes past its reservation',
    status: 409,
    detail: `${error.path.slice(1)} goes ${tokens} past reserved_completion_tokens (${error.reserved_completion_tokens}); reserve more before burning more.`,
    errors: [{ path: error.path, message: `must be at most reserved_completion_tokens (${error.reserved_completion_tokens}): ${tokens} too many` }],
  };
}

/** Errors Fastify raises while reading a request, before any route code runs. */
function fastifyProblem(error: unknown): ProblemFields | undefined {
  const { code, statusCode, message } = (error ?? {}) as Partial<FastifyError>;
  switch (code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return {
        type: PROBLEM_TYPES.malformedJson,
        title: 'Malformed JSON',
        status: 400,
        detail: 'The request body is not valid JSON.',
      };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return {
        type: PROBLEM_TYPES.unsupportedMediaType,
        title: 'Unsupported content type',
        status: 400,
        detail: 'Send the request body as application/json.',
      };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return {
        type: PROBLEM_TYPES.bodyTooLarge,
        title: 'Request body too large',
        status: 413,
        detail: 'The request body exceeds the configured limit (BODY_LIMIT_BYTES).',
      };
  }
  const status = statusCode ?? 500;
  if (status < 400 || status >= 500) return undefined;
  return { type: PROBLEM_TYPES.generic, title: STATUS_CODES[status] ?? 'Client Error', status, detail: message ?? '' };
}

/** Said when only the first errors are listed, in the same words for a 400 and a 422. */
function listedSuffix(listed: number, total: number): string {
  return total > listed ? ` (the first ${listed} are listed)` : '';
}

function countOf(count: number, singular: string, plural: string): string {
  return `${count} ${count === 1 ? singular : plural}`;
}

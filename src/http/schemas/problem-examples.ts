/**
 * The problem each route documents for each status is what the service answers for a real
 * request: built here by the code that answers it (the route's schema, the policy's rules, the
 * error handler's words), from requests the routes refuse. test/http/problem-examples.test.ts
 * sends each request to the running app and finds the same body.
 */
import { errorCodes } from 'fastify';
import type { z } from 'zod';
import type { ContributionInput, QuoteInput, RealtimeDeltaInput, SettleInput } from '../../policy/index.js';
import { clientProblem, internalError, invalidRequest, type ProblemFields } from '../problem.js';
import { describeZodIssues } from '../schema-issues.js';
import { CONTRIBUTION_EXAMPLE, QUOTE_EXAMPLE, REALTIME_DELTA_EXAMPLE, SETTLE_EXAMPLE } from './examples.js';
import type { Problem } from './problem.js';

/** The request id of every documented problem: an id a client could send as x-request-id. */
export const EXAMPLE_REQUEST_ID = 'c0ffee00-1234';

/** A request field of the wrong JSON type: the count as a string. */
const PROMPT_TOKENS_AS_TEXT = { prompt_tokens: '128' };

/** The worked example's requests, each broken in one way its route refuses, by the status it answers. */
export const REFUSED_REQUESTS = {
  '/quote': {
    400: { ...QUOTE_EXAMPLE, ...PROMPT_TOKENS_AS_TEXT },
    422: { ...QUOTE_EXAMPLE, budget_credits: '700.0000000001' } satisfies QuoteInput,
  },
  '/settle': {
    400: { ...SETTLE_EXAMPLE, ...PROMPT_TOKENS_AS_TEXT },
    409: { ...SETTLE_EXAMPLE, actual_completion_tokens: 300 } satisfies SettleInput,
    422: { ...SETTLE_EXAMPLE, accounted_completion_tokens: 200 } satisfies SettleInput,
  },
  '/contribution': {
    400: { ...CONTRIBUTION_EXAMPLE, ...PROMPT_TOKENS_AS_TEXT },
    422: {
      ...CONTRIBUTION_EXAMPLE,
      assignments: CONTRIBUTION_EXAMPLE.assignments.map((assignment, index) => (index === 0 ? { ...assignment, shard_column_end: 9000 } : assignment)),
    } satisfies ContributionInput,
  },
  '/realtime-delta': {
    400: { ...REALTIME_DELTA_EXAMPLE, ...PROMPT_TOKENS_AS_TEXT },
    409: { ...REALTIME_DELTA_EXAMPLE, frontier_completion_tokens: 300 } satisfies RealtimeDeltaInput,
    422: { ...REALTIME_DELTA_EXAMPLE, frontier_completion_tokens: 20 } satisfies RealtimeDeltaInput,
  },
  '/realtime-delta/batch': {
    // The updates under a name the batch does not know.
    400: { update: [REALTIME_DELTA_EXAMPLE] },
  },
} as const;

/** A problem as the service answers it to a request that sent EXAMPLE_REQUEST_ID. */
export function exampleProblem(fields: ProblemFields): Problem {
  return { ...fields, request_id: EXAMPLE_REQUEST_ID };
}

/** The 400 a route whose body schema is `schema` answers for `body`. */
export function schemaRefusalOf(schema: z.ZodType, body: unknown): Problem {
  const parsed = schema.safeParse(body);
  if (parsed.success) throw new Error('the example of a 400 matches the schema');
  return exampleProblem(invalidRequest(describeZodIssues(parsed.error.issues, body)));
}

/** The problem the error handler answers for what `answer` throws on `body`. */
export function refusalOf(answer: () => unknown, body: unknown): Problem {
  try {
    answer();
  } catch (error) {
    const problem = clientProblem(error, body);
    if (problem !== undefined) return exampleProblem(problem);
    throw error;
  }
  throw new Error('the example of a refused request is answered');
}

/** Fastify's own refusal of a body past its limit, as the error handler words it. */
export const BODY_TOO_LARGE_EXAMPLE = exampleProblem(clientProblem(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE(), undefined)!);

export const INTERNAL_ERROR_EXAMPLE = exampleProblem(internalError(EXAMPLE_REQUEST_ID));

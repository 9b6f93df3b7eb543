import { z } from 'zod';
import { described, type SchemaDocs } from './docs.js';
import { BODY_TOO_LARGE_EXAMPLE, EXAMPLE_REQUEST_ID, INTERNAL_ERROR_EXAMPLE } from './problem-examples.js';

export function problemSchemas(docs: SchemaDocs) {
  const problem = described(
    docs,
    z.object({
      type: described(docs, z.string(), { description: 'URI that identifies the kind of problem.', example: 'urn:divy:problem:policy-rule-violation' }),
      title: described(docs, z.string(), { description: 'Short summary of the kind of problem.', example: 'Input breaks a rule of the credit policy' }),
      status: described(docs, z.number(), { type: 'integer', description: 'HTTP status code.', example: 422 }),
      detail: described(docs, z.string(), { description: 'What went wrong in this request.', example: '1 rule violation.' }),
      request_id: described(docs, z.string(), { description: 'The request id, as in the x-request-id header and the logs.', example: EXAMPLE_REQUEST_ID }),
      errors: described(
        docs,
        z
          .array(
            z.object({
              path: described(docs, z.string(), { description: 'JSON Pointer to the offending field.', example: '/assignments/0/shard_column_end' }),
              message: described(docs, z.string(), { description: 'The rule the field breaks.', example: 'must be at most total_columns (8192)' }),
            }),
          )
          .optional(),
        { description: 'Each offending field and the rule it breaks (400 and 422 only).' },
      ),
    }),
    { id: 'Problem', description: 'An RFC 9457 problem details object (application/problem+json).' },
  );
  type ProblemBody = z.infer<typeof problem>;
  /**
   * An OpenAPI response entry whose body is a problem document; `example` is what the service
   * answers for a real request (src/http/schemas/problem-examples.ts builds them).
   */
  const response = (description: string, example: ProblemBody) => ({
    description,
    content: { 'application/problem+json': { schema: problem, example } },
  });
  const bodyTooLarge = response('The body exceeds BODY_LIMIT_BYTES.', BODY_TOO_LARGE_EXAMPLE);
  const internalError = response('A bug in the service; the body shows no internals.', INTERNAL_ERROR_EXAMPLE);
  return {
    problem,
    response,
    bodyTooLarge,
    internalError,
    /** The problems every JSON-consuming endpoint can answer with; the 400 and 422 examples are the route's own. */
    bodyResponses: (examples: Readonly<Record<400 | 422, ProblemBody>>) => ({
      400: response('Malformed JSON, a wrong type, a missing or unknown field, or a body that is not JSON.', examples[400]),
      413: bodyTooLarge,
      422: response('A value breaks a rule of the credit policy; `errors` names each field and rule.', examples[422]),
      500: internalError,
    }),
    reservationExceeded: (example: ProblemBody) => response('The job goes past its reservation: `errors` names the count and by how many tokens.', example),
  };
}

export type ProblemSchemas = ReturnType<typeof problemSchemas>;

/** A problem body, as the error handler builds it. */
export type Problem = z.infer<ReturnType<typeof problemSchemas>['problem']>;

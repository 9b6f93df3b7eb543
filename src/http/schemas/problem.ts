import { z } from 'zod';
import { described, type SchemaDocs } from './docs.js';

export function problemSchemas(docs: SchemaDocs) {
  const problem = described(
    docs,
    z.object({
      type: described(docs, z.string(), { description: 'URI that identifies the kind of problem.', example: 'urn:divy:problem:policy-rule-violation' }),
      title: described(docs, z.string(), { description: 'Short summary of the kind of problem.', example: 'Input breaks a rule of the credit policy' }),
      status: described(docs, z.number(), { type: 'integer', description: 'HTTP status code.', example: 422 }),
      detail: described(docs, z.string(), { description: 'What went wrong in this request.', example: '1 rule violation' }),
      request_id: described(docs, z.string(), { description: 'The request id, as in the x-request-id header and the logs.', example: 'c0ffee00-1234' }),
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
  /** An OpenAPI response entry whose body is a problem document. */
  const response = (description: string) => ({ description, content: { 'application/problem+json': { schema: problem } } });
  return {
    problem,
    response,
    /** The problems every JSON-consuming endpoint can answer with. */
    bodyResponses: {
      400: response('Malformed JSON, a wrong type, a missing or unknown field, or a body that is not JSON.'),
      413: response('The body exceeds BODY_LIMIT_BYTES.'),
      422: response('A value breaks a rule of the credit policy; `errors` names each field and rule.'),
      500: response('A bug in the service; the body shows no internals.'),
    },
    reservationExceeded: response('The job goes past its reservation: `errors` names the count and by how many tokens.'),
  };
}

export type ProblemSchemas = ReturnType<typeof problemSchemas>;

/** A problem body, as the error handler builds it. */
export type Problem = z.infer<ReturnType<typeof problemSchemas>['problem']>;

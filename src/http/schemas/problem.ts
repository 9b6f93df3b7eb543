import { z } from 'zod';

export const ProblemSchema = z
  .object({
    type: z.string().meta({ description: 'URI that identifies the kind of problem.', example: 'urn:divy:problem:policy-rule-violation' }),
    title: z.string().meta({ description: 'Short summary of the kind of problem.', example: 'Input breaks a rule of the credit policy' }),
    status: z.number().meta({ type: 'integer', description: 'HTTP status code.', example: 422 }),
    detail: z.string().meta({ description: 'What went wrong in this request.', example: '1 rule violation' }),
    request_id: z.string().meta({ description: 'The request id, as in the x-request-id header and the logs.', example: 'c0ffee00-1234' }),
    errors: z
      .array(
        z.object({
          path: z.string().meta({ description: 'JSON Pointer to the offending field.', example: '/assignments/0/shard_column_end' }),
          message: z.string().meta({ description: 'The rule the field breaks.', example: 'must be at most total_columns (8192)' }),
        }),
      )
      .optional()
      .meta({ description: 'Each offending field and the rule it breaks (400 and 422 only).' }),
  })
  .meta({ id: 'Problem', description: 'An RFC 9457 problem details object (application/problem+json).' });

export type Problem = z.infer<typeof ProblemSchema>;

/** An OpenAPI response entry whose body is a problem document. */
export function problemResponse(description: string) {
  return { description, content: { 'application/problem+json': { schema: ProblemSchema } } };
}

/** The problems every JSON-consuming endpoint can answer with. */
export const BODY_PROBLEM_RESPONSES = {
  400: problemResponse('Malformed JSON, a wrong type, a missing or unknown field, or a body that is not JSON.'),
  413: problemResponse('The body exceeds BODY_LIMIT_BYTES.'),
  422: problemResponse('A value breaks a rule of the credit policy; `errors` names each field and rule.'),
  500: problemResponse('A bug in the service; the body shows no internals.'),
} as const;

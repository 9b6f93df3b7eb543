import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { contributionJson } from '../contribution-json.js';
import { computeContribution, type PolicySettings } from '../../policy/index.js';
import { ContributionRequestSchema, ContributionResponseSchema } from '../schemas/contribution.js';
import { BODY_PROBLEM_RESPONSES } from '../schemas/problem.js';

export const contributionRoutes: FastifyPluginAsyncZod<{ settings: PolicySettings }> = async (app, { settings }) => {
  app.post(
    '/contribution',
    {
      schema: {
        tags: ['accounting'],
        summary: 'Split a whole job\'s credits among its workers',
        description:
          'Splits (prompt + completion tokens) x model_size_factor among the workers by assigned work share x throughput against the median worker x memory pressure. The workers\' credits sum exactly to job_credit_budget.',
        body: ContributionRequestSchema,
        response: { 200: ContributionResponseSchema, ...BODY_PROBLEM_RESPONSES },
      },
      // Success bodies are written from the policy's columns; problems use the app's serializer.
      serializerCompiler: ({ httpStatus }) => (httpStatus === '200' ? contributionJson : JSON.stringify),
    },
    async (request) => computeContribution(request.body, settings),
  );
};

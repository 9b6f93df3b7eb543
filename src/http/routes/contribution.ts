import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { computeContribution, priceByVersion } from '../../policy/index.js';
import { assignmentLimitHook } from '../list-limits.js';
import type { RouteOptions } from './options.js';

export const contributionRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { catalog, schemas }) => {
  const { contribution, problems } = schemas;
  app.post(
    '/contribution',
    {
      // Before the schema: a list too long for the policy is refused without reading its elements.
      preValidation: assignmentLimitHook(catalog),
      schema: {
        tags: ['accounting'],
        summary: 'Split a whole job\'s credits among its workers',
        description:
          'Splits (prompt + completion tokens) x model_size_factor among the workers by assigned work share x throughput against the median worker x memory pressure. The workers\' credits sum exactly to job_credit_budget.',
        body: contribution.contributionRequest,
        response: { 200: contribution.contributionResponse, ...problems.bodyResponses },
      },
    },
    async (request) => priceByVersion(catalog, request.body.policy_version, (settings) => computeContribution(request.body, settings)),
  );
};

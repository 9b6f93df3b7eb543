import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { answerWithWorkerCredits } from '../worker-credits-answer.js';
import type { RouteOptions } from './options.js';

export const contributionRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { schemas, answerers, validatorRefusing }) => {
  const { contribution } = schemas;
  // The same pricing the offload pool uses for a body of this route.
  const answerer = answerers.contribution;
  app.post(
    '/contribution',
    {
      // Before the schema: a list too long for the policy is refused without reading its elements.
      validatorCompiler: validatorRefusing(answerer.refuseOversized),
      schema: {
        tags: ['accounting'],
        summary: 'Split a whole job\'s credits among its workers',
        description:
          'Splits (prompt + completion tokens) x model_size_factor among the workers by assigned work share x throughput against the median worker x memory pressure. The workers\' credits sum exactly to job_credit_budget. With Accept: text/csv preferred, the answer is the CSV of the workers, one record each.',
        body: contribution.contributionRequest,
        response: { 200: contribution.contributionJsonOrCsvResponse, ...contribution.problemResponses },
      },
    },
    (request, reply) => answerWithWorkerCredits(request, reply, answerer.price(request.body), answerer.workersOf),
  );
};

import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { quoteConsumption, priceByVersion, settleConsumption } from '../../policy/index.js';
import type { RouteOptions } from './options.js';

export const consumptionRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { catalog, schemas, answerers, validatorRefusing }) => {
  const { consumption, settlement } = schemas;
  app.post(
    '/quote',
    {
      schema: {
        tags: ['accounting'],
        summary: 'Reserve: price a job before it starts',
        description:
          'Prices the prompt tokens plus the requested completion tokens, scaled by model size. Wallet services reserve this amount before the job runs. With budget_credits it also says how many completion tokens the budget affords.',
        body: consumption.quoteRequest,
        response: { 200: consumption.quoteResponse, ...consumption.quoteProblemResponses },
      },
    },
    // Synchronous, as every accounting handler: the answer is sent without a promise and a microtask.
    (request) => priceByVersion(catalog, request.body.policy_version, (settings) => quoteConsumption(request.body, settings)),
  );

  app.post(
    '/settle',
    {
      // Before the schema: a list too long for the policy is refused without reading its elements.
      validatorCompiler: validatorRefusing(answerers.settlement.refuseOversized),
      schema: {
        tags: ['accounting'],
        summary: 'Settle: price what a finished job consumed, and reconcile it against its reservation',
        description:
          'Prices the prompt tokens plus the completion tokens actually produced: to the unit, the sum of the job\'s realtime deltas. With reserved_completion_tokens (and what the stream already burned) it reconciles only the difference: the final delta to burn, split among the assignments, and what to release. Completion past the reservation is a 409.',
        body: settlement.settleRequest,
        response: { 200: settlement.settleResponse, ...settlement.problemResponses },
      },
    },
    (request) => priceByVersion(catalog, request.body.policy_version, (settings) => settleConsumption(request.body, settings)),
  );
};

import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { quoteConsumption, settleConsumption } from '../../policy/index.js';
import type { RouteOptions } from './options.js';

export const consumptionRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { settings, schemas }) => {
  const { consumption, problems } = schemas;
  app.post(
    '/quote',
    {
      schema: {
        tags: ['accounting'],
        summary: 'Reserve: price a job before it starts',
        description:
          'Prices the prompt tokens plus the requested completion tokens, scaled by model size. Wallet services reserve this amount before the job runs.',
        body: consumption.quoteRequest,
        response: { 200: consumption.quoteResponse, ...problems.bodyResponses },
      },
    },
    async (request) => quoteConsumption(request.body, settings),
  );

  app.post(
    '/settle',
    {
      schema: {
        tags: ['accounting'],
        summary: 'Settle: price what a finished job consumed',
        description:
          'Prices the prompt tokens plus the completion tokens actually produced. Equals, to the unit, the sum of the job\'s realtime deltas.',
        body: consumption.settleRequest,
        response: { 200: consumption.settleResponse, ...problems.bodyResponses },
      },
    },
    async (request) => settleConsumption(request.body, settings),
  );
};

import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { quoteConsumption, settleConsumption, type PolicySettings } from '../../policy/index.js';
import { QuoteRequestSchema, QuoteResponseSchema, SettleRequestSchema, SettleResponseSchema } from '../schemas/consumption.js';
import { BODY_PROBLEM_RESPONSES } from '../schemas/problem.js';

export const consumptionRoutes: FastifyPluginAsyncZod<{ settings: PolicySettings }> = async (app, { settings }) => {
  app.post(
    '/quote',
    {
      schema: {
        tags: ['accounting'],
        summary: 'Reserve: price a job before it starts',
        description:
          'Prices the prompt tokens plus the requested completion tokens, scaled by model size. Wallet services reserve this amount before the job runs.',
        body: QuoteRequestSchema,
        response: { 200: QuoteResponseSchema, ...BODY_PROBLEM_RESPONSES },
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
        body: SettleRequestSchema,
        response: { 200: SettleResponseSchema, ...BODY_PROBLEM_RESPONSES },
      },
    },
    async (request) => settleConsumption(request.body, settings),
  );
};

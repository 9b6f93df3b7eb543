import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { computeRealtimeDelta, priceByVersion } from '../../policy/index.js';
import { assignmentLimitHook } from '../list-limits.js';
import type { RouteOptions } from './options.js';

export const realtimeDeltaRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { catalog, schemas }) => {
  const { realtimeDelta, problems } = schemas;
  app.post(
    '/realtime-delta',
    {
      // Before the schema: a list too long for the policy is refused without reading its elements.
      preValidation: assignmentLimitHook(catalog),
      schema: {
        tags: ['accounting'],
        summary: 'Stream: burn and pay out the credits of new tokens',
        description:
          'Coordinators call this each time the completion frontier advances, passing the counters already accounted. Returns the credits to burn from the submitter for the new tokens and, from exactly that amount, what each worker earns. Deltas from 0 to N sum exactly to the settlement of N. Answers 204 when there is nothing new. With reserved_completion_tokens no burn goes past the reservation (409); with job_id the answer carries its ledger postings.',
        body: realtimeDelta.realtimeDeltaRequest,
        response: {
          200: realtimeDelta.realtimeDeltaResponse,
          204: realtimeDelta.nothingToAccount,
          ...problems.bodyResponses,
          409: problems.reservationExceeded,
        },
      },
    },
    async (request, reply) => {
      const delta = priceByVersion(catalog, request.body.policy_version, (settings) => computeRealtimeDelta(request.body, settings));
      if (delta === null) return reply.code(204).send(null);
      return delta;
    },
  );
};

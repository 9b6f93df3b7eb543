import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { realtimeDeltaJson } from '../contribution-json.js';
import { computeRealtimeDelta, type PolicySettings } from '../../policy/index.js';
import { BODY_PROBLEM_RESPONSES } from '../schemas/problem.js';
import { NothingToAccountSchema, RealtimeDeltaRequestSchema, RealtimeDeltaResponseSchema } from '../schemas/realtime-delta.js';

export const realtimeDeltaRoutes: FastifyPluginAsyncZod<{ settings: PolicySettings }> = async (app, { settings }) => {
  app.post(
    '/realtime-delta',
    {
      schema: {
        tags: ['accounting'],
        summary: 'Stream: burn and pay out the credits of new tokens',
        description:
          'Coordinators call this each time the completion frontier advances, passing the counters already accounted. Returns the credits to burn from the submitter for the new tokens and, from exactly that amount, what each worker earns. Deltas from 0 to N sum exactly to the settlement of N. Answers 204 when there is nothing new.',
        body: RealtimeDeltaRequestSchema,
        response: { 200: RealtimeDeltaResponseSchema, 204: NothingToAccountSchema, ...BODY_PROBLEM_RESPONSES },
      },
      // Success bodies are written from the policy's columns; problems use the app's serializer.
      serializerCompiler: ({ httpStatus }) => (httpStatus === '200' ? realtimeDeltaJson : JSON.stringify),
    },
    async (request, reply) => {
      const delta = computeRealtimeDelta(request.body, settings);
      if (delta === null) return reply.code(204).send(null);
      return delta;
    },
  );
};

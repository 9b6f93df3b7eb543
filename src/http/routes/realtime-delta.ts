import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { answerWithWorkerCredits } from '../worker-credits-answer.js';
import type { RouteOptions } from './options.js';

export const realtimeDeltaRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { schemas, answerers, validatorRefusing }) => {
  const { realtimeDelta } = schemas;
  // The same pricing a batch and the offload pool use for a body of this route.
  const answerer = answerers.realtimeDelta;
  app.post(
    '/realtime-delta',
    {
      // Before the schema: a list too long for the policy is refused without reading its elements.
      validatorCompiler: validatorRefusing(answerer.refuseOversized),
      schema: {
        tags: ['accounting'],
        summary: 'Stream: burn and pay out the credits of new tokens',
        description:
          'Coordinators call this each time the completion frontier advances, passing the counters already accounted. Returns the credits to burn from the submitter for the new tokens and, from exactly that amount, what each worker earns. Deltas from 0 to N sum exactly to the settlement of N. Answers 204 when there is nothing new. With reserved_completion_tokens no burn goes past the reservation (409); with job_id the answer carries its ledger postings. With Accept: text/csv preferred, the answer is the CSV of the workers who earn the burn, one record each.',
        body: realtimeDelta.realtimeDeltaRequest,
        response: {
          200: realtimeDelta.realtimeDeltaJsonOrCsvResponse,
          204: realtimeDelta.nothingToAccount,
          ...realtimeDelta.problemResponses,
        },
      },
    },
    // Synchronous: the answer is sent without a promise and a microtask; a handler that sent its
    // reply itself returns nothing.
    (request, reply) => {
      const delta = answerer.price(request.body);
      if (delta === null) return void reply.code(204).send(null);
      return answerWithWorkerCredits(request, reply, delta, answerer.workersOf);
    },
  );
};

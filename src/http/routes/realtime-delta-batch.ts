import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { answerRealtimeDeltaBatch } from '../realtime-delta-batch.js';
import { refuseOversizedBatchBody } from '../list-limits.js';
import type { RouteOptions } from './options.js';

export const realtimeDeltaBatchRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { schemas, answerers, validatorRefusing }) => {
  const { realtimeDeltaBatch } = schemas;
  app.post(
    '/realtime-delta/batch',
    {
      // Before the schema, which would otherwise walk every item of a list too long to answer.
      validatorCompiler: validatorRefusing((body) => refuseOversizedBatchBody(body, realtimeDeltaBatch.max_updates)),
      schema: {
        tags: ['accounting'],
        summary: 'Stream, batched: many realtime deltas in one request',
        description: `Answers up to ${realtimeDeltaBatch.max_updates} updates (BATCH_MAX_UPDATES), of one job or of many, in one request. Each update is a request body of POST /realtime-delta. Each result, in the order of the updates, is exactly what that endpoint answers for the update alone: { status: 200, delta }, { status: 204 }, or { status: 4xx, problem } carrying this request's request_id. One refused update does not fail the others. A body that is not { "updates": [...] } is a 400, more updates than the limit a 422.`,
        body: realtimeDeltaBatch.realtimeDeltaBatchRequest,
        response: { 200: realtimeDeltaBatch.realtimeDeltaBatchResponse, ...realtimeDeltaBatch.problemResponses },
      },
    },
    (request) => ({
      results: answerRealtimeDeltaBatch(request.body.updates, {
        answerer: answerers.realtimeDelta,
        max_updates: realtimeDeltaBatch.max_updates,
        request_id: request.id,
      }),
    }),
  );
};

import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { policyDocumentOf } from '../schemas/service.js';
import type { RouteOptions } from './options.js';

export const serviceRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { settings, schemas }) => {
  const { service, problems } = schemas;
  const policyDocument = policyDocumentOf(settings);

  app.get(
    '/policy',
    {
      schema: {
        tags: ['operations'],
        summary: 'The active policy parameters, their version and the credit scale',
        response: { 200: service.policyDocument },
      },
    },
    async () => policyDocument,
  );

  app.get(
    '/healthz',
    { schema: { tags: ['operations'], summary: 'Liveness: the process answers', response: { 200: service.health } } },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['operations'],
        summary: 'Readiness: the service takes traffic (503 while shutting down)',
        response: { 200: service.health, 503: problems.response('The service is shutting down.') },
      },
    },
    async () => ({ status: 'ready' as const }),
  );
};

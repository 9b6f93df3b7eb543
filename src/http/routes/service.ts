import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { sendProblem } from '../problem.js';
import { policyDocumentOf, policyVersionDocumentOf, unknownPolicyVersion } from '../schemas/service.js';
import type { RouteOptions } from './options.js';

export const serviceRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { catalog, schemas }) => {
  const { service } = schemas;
  const policyDocument = policyDocumentOf(catalog);

  app.get(
    '/policy',
    {
      schema: {
        tags: ['operations'],
        summary: 'The current policy, every policy served, and the credit scale',
        response: { 200: service.policyDocument },
      },
    },
    async () => policyDocument,
  );

  app.get(
    '/policy/:version',
    {
      schema: {
        tags: ['operations'],
        summary: 'One policy by its version',
        params: z.object({ version: service.versionParameter }),
        response: { 200: service.policyVersionDocument, 404: service.unknownVersion },
      },
    },
    async (request, reply) => {
      const settings = catalog.policies.get(request.params.version);
      if (settings !== undefined) return policyVersionDocumentOf(settings, request.params.version === catalog.current);
      return sendProblem(request, reply, unknownPolicyVersion(catalog, request.params.version));
    },
  );

  app.get(
    '/healthz',
    { schema: { tags: ['operations'], summary: 'Liveness: the process answers', response: { 200: service.alive } } },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['operations'],
        summary: 'Readiness: the service takes traffic (503 while shutting down)',
        response: { 200: service.ready, 503: service.draining },
      },
    },
    async () => ({ status: 'ready' as const }),
  );
};

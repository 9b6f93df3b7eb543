import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { PolicySettings } from '../../policy/index.js';
import { problemResponse } from '../schemas/problem.js';
import { HealthSchema, PolicyDocumentSchema } from '../schemas/service.js';

export const serviceRoutes: FastifyPluginAsyncZod<{ settings: PolicySettings }> = async (app, { settings }) => {
  const { version, ...parameters } = settings.parameters;
  const policyDocument = {
    policy_version: version,
    credit_scale: settings.credit_scale,
    max_assignments: settings.max_assignments,
    parameters,
  };

  app.get(
    '/policy',
    {
      schema: {
        tags: ['operations'],
        summary: 'The active policy parameters, their version and the credit scale',
        response: { 200: PolicyDocumentSchema },
      },
    },
    async () => policyDocument,
  );

  app.get(
    '/healthz',
    { schema: { tags: ['operations'], summary: 'Liveness: the process answers', response: { 200: HealthSchema } } },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['operations'],
        summary: 'Readiness: the service takes traffic (503 while shutting down)',
        response: { 200: HealthSchema, 503: problemResponse('The service is shutting down.') },
      },
    },
    async () => ({ status: 'ready' as const }),
  );
};

import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { described } from '../schemas/docs.js';
import type { Metrics } from '../metrics.js';
import type { RouteOptions } from './options.js';

export interface MetricsRouteOptions extends RouteOptions {
  readonly metrics: Metrics;
}

export const metricsRoutes: FastifyPluginAsyncZod<MetricsRouteOptions> = async (app, { schemas, metrics }) => {
  const { registry } = metrics;
  const exposition = described(schemas.docs, z.string(), {
    description:
      'Prometheus text exposition: divy_http_request_duration_seconds (by route pattern and status_code), divy_credits_burned_total, divy_credits_paid_total, divy_problems_total (by type), divy_shed_requests_total, and the process metrics.',
    example: '# HELP divy_credits_burned_total Credits answered to burn\n# TYPE divy_credits_burned_total counter\ndivy_credits_burned_total 12.5\n',
  });
  app.get(
    '/metrics',
    {
      schema: {
        tags: ['operations'],
        summary: 'Prometheus metrics of this replica',
        description: 'Counts since this replica started; each replica counts only what it answered, so sum them across replicas.',
        response: {
          200: { description: 'The metrics, in the Prometheus text format 0.0.4.', content: { [registry.contentType]: { schema: exposition } } },
        },
      },
    },
    // The text goes out as is: a string under a non-JSON content type skips the app's JSON serializer.
    async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()),
  );
};

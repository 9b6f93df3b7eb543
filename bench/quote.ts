/** POST /quote, a request of three numbers, for reference: what a request costs beside its policy. */
import type { FastifyInstance } from 'fastify';
import type { ApiSchemas } from '../src/http/schemas/api.js';
import { quoteConsumption, type PolicySettings, type QuoteInput } from '../src/policy/index.js';
import { JOBS_IN_TURN, quoteInput } from './jobs.js';
import { benchRequest, type RequestFigure } from './request.js';

export function benchQuote(app: FastifyInstance, schemas: ApiSchemas, settings: PolicySettings): Promise<RequestFigure> {
  process.stderr.write('POST /quote\n');
  const quotes = Array.from({ length: JOBS_IN_TURN }, (_, turn) => quoteInput(turn));
  const route = {
    url: '/quote',
    schema: schemas.consumption.quoteRequest,
    policy: (input: QuoteInput) => quoteConsumption(input, settings),
    write: (answer: unknown) => JSON.stringify(answer),
  };
  return benchRequest(app, route, quotes);
}

/**
 * The fair floor: the least a Node service can do for Divy's /quote, /realtime-delta and
 * /realtime-delta/batch. A bare
 * Fastify route parses the same JSON body (Fastify's own parser), logs one pino line at info, as
 * Divy logs one per request, and JSON.stringify's an answer of the same shape and numbers: Divy's
 * own answer for that body, recorded before the run (FLOOR_TEMPLATES names the file). No
 * validation, no policy, no hooks: what Divy costs above this is its own work.
 */
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';
import { pino } from 'pino';
import { batchKey, deltaKey, quoteKey, type BatchBody, type DeltaBody, type FloorTemplates, type QuoteBody } from './floor-keys.js';

async function main(): Promise<void> {
  const templates = JSON.parse(readFileSync(process.env['FLOOR_TEMPLATES']!, 'utf8')) as FloorTemplates;
  const quotes = new Map(templates.quote);
  const deltas = new Map(templates.delta);
  const batches = new Map(templates.batch);
  const logger = pino({ level: 'info', timestamp: pino.stdTimeFunctions.isoTime });
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024 * 1024 });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.post('/quote', async (request, reply) => answer(reply, request.url, quotes.get(quoteKey(request.body as QuoteBody))));
  app.post('/realtime-delta', async (request, reply) => answer(reply, request.url, deltas.get(deltaKey(request.body as DeltaBody))));
  app.post('/realtime-delta/batch', async (request, reply) => answer(reply, request.url, batches.get(batchKey(request.body as BatchBody))));

  function answer(reply: { code(status: number): unknown; header(name: string, value: string): unknown }, url: string, template: unknown): string {
    const status = template === undefined ? 404 : 200;
    reply.code(status);
    reply.header('content-type', 'application/json; charset=utf-8');
    logger.info({ method: 'POST', url, status_code: status }, 'request completed');
    return JSON.stringify(template ?? { error: 'no template for this body' });
  }

  await app.listen({ port: Number(process.env['PORT']), host: '127.0.0.1' });
  const stop = () => void app.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

await main();

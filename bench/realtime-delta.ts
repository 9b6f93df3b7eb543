/**
 * POST /realtime-delta by worker count: the whole request through the app, and its stages, over
 * JOBS_IN_TURN distinct seeded jobs of each size taken in turn. The service refuses jobs over
 * max_assignments (10000 by default), so 10000 workers is the largest request it takes.
 */
import type { FastifyInstance } from 'fastify';
import type { ApiSchemas } from '../src/http/schemas/api.js';
import { computeRealtimeDelta, type PolicySettings } from '../src/policy/index.js';
import { deltaInput, JOBS_IN_TURN } from './jobs.js';
import { benchRequest, type RequestFigure } from './request.js';

export const WORKER_COUNTS = [8, 64, 1024, 10_000] as const;

/** Per-call time of the original Rust model's realtime delta, measured on this machine kind (microseconds). */
export const ORIGINAL_MODEL_US: Readonly<Record<number, number>> = { 8: 0.53, 64: 5.4, 1024: 111, 10_000: 1750 };

export interface RealtimeDeltaFigure extends RequestFigure {
  readonly workers: number;
}

export async function benchRealtimeDelta(app: FastifyInstance, schemas: ApiSchemas, settings: PolicySettings): Promise<RealtimeDeltaFigure[]> {
  const figures: RealtimeDeltaFigure[] = [];
  for (const workers of WORKER_COUNTS) {
    if (workers > settings.max_assignments) throw new Error(`${workers} workers is over the app's max_assignments`);
    process.stderr.write(`POST /realtime-delta, ${workers} workers\n`);
    const jobs = Array.from({ length: JOBS_IN_TURN }, (_, turn) => deltaInput(workers, turn));
    const route = {
      url: '/realtime-delta',
      schema: schemas.realtimeDelta.realtimeDeltaRequest,
      policy: (input: Parameters<typeof computeRealtimeDelta>[0]) => computeRealtimeDelta(input, settings),
      write: (answer: unknown) => JSON.stringify(answer),
    };
    figures.push({ workers, ...(await benchRequest(app, route, jobs)) });
  }
  return figures;
}

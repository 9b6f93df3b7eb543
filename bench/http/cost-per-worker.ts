/**
 * What a realtime delta costs per worker, by worker count, over real HTTP: the server, pinned to
 * one core and kept busy by closed-loop clients, answers `rate` requests a second, so a request
 * costs it 1/rate of that core. Beside it, the response writer alone: JSON.stringify, as the app
 * writes its answers, on the answers to the same bodies, in this process.
 */
import { computeRealtimeDelta, DEFAULT_POLICY_SETTINGS } from '../../src/policy/index.js';
import { deltaInput } from '../jobs.js';
import { measureSideBySide } from '../measure.js';
import { deltaRing } from './bodies.js';
import { closedLoop } from './closed-loop.js';
import type { ServerProcess } from './servers.js';
import { median } from './stats.js';

export const PLOTTED_WORKER_COUNTS = [8, 64, 1024, 10_000] as const;
const RING = 8;

export interface WorkerCostFigure {
  readonly workers: number;
  readonly requests_per_sec: number;
  /** Server time per request over HTTP, per worker. */
  readonly request_us_per_worker: number;
  /** JSON.stringify of the answer, per worker. */
  readonly writer_us_per_worker: number;
  readonly response_bytes: number;
}

/** Sizes take turns, round after round, so a slow spell of the machine falls on all of them alike; each keeps its median round. */
export async function benchCostPerWorker(divy: ServerProcess, rounds: number, seconds: number): Promise<WorkerCostFigure[]> {
  const sizes = PLOTTED_WORKER_COUNTS.map((workers) => ({ workers, ring: deltaRing(workers, RING), connections: workers >= 1024 ? 2 : 8, rates: [] as number[] }));
  process.stderr.write(`cost per worker: ${PLOTTED_WORKER_COUNTS.join(', ')} workers, ${rounds} rounds\n`);
  // Enough clients that the server always has a request waiting, few enough not to queue large bodies.
  for (const { ring, connections } of sizes) await closedLoop(divy.origin, ring, { connections, seconds: 1 });
  for (let round = 0; round < rounds; round += 1) {
    for (const size of sizes) {
      const load = await closedLoop(divy.origin, size.ring, { connections: size.connections, seconds });
      if (load.non2xx + load.errors > 0) throw new Error(`${size.workers}-worker deltas: ${load.non2xx} non-2xx answers, ${load.errors} errors`);
      size.rates.push(load.requests_per_sec);
    }
  }
  const figures: WorkerCostFigure[] = [];
  const write = (answer: unknown) => JSON.stringify(answer);
  for (const { workers, rates } of sizes) {
    const answers = Array.from({ length: RING }, (_, turn) => computeRealtimeDelta(deltaInput(workers, turn), DEFAULT_POLICY_SETTINGS)!);
    let turn = 0;
    const [writer_s] = await measureSideBySide([{ sync: () => write(answers[(turn = (turn + 1) % RING)]) }], RING);
    const requests_per_sec = median(rates);
    figures.push({
      workers,
      requests_per_sec,
      request_us_per_worker: 1e6 / requests_per_sec / workers,
      writer_us_per_worker: (writer_s! * 1e6) / workers,
      response_bytes: answers.reduce((sum, answer) => sum + Buffer.byteLength(JSON.stringify(answer)), 0) / RING,
    });
  }
  return figures;
}

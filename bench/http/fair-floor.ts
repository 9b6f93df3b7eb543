/**
 * Divy against the fair floor (floor-server.ts), over real HTTP, in alternating rounds: Divy,
 * floor, Divy, floor, ... so a slow spell of the machine falls on both alike. Each round is a
 * closed-loop run of `connections` clients; the ratio is taken per round and its median kept.
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BodyRing } from './bodies.js';
import { closedLoop } from './closed-loop.js';
import { batchKey, deltaKey, quoteKey, type BatchBody, type DeltaBody, type FloorTemplates, type QuoteBody } from './floor-keys.js';
import { FLOOR_SCRIPT, postJson, startServer, type ServerProcess } from './servers.js';
import { median, type LoadFigure } from './stats.js';

export interface FloorComparison {
  readonly path: string;
  readonly label: string;
  readonly divy: LoadFigure;
  readonly floor: LoadFigure;
  /** Median over rounds of Divy's req/s over the floor's. */
  readonly throughput_ratio: number;
  readonly rounds: number;
}

export interface FloorRun {
  readonly rounds: number;
  readonly round_secs: number;
  readonly connections: number;
}

/** Divy's answer for every body of the rings, as the floor's templates; refuses to go on if any is not a 200. */
export async function recordTemplates(divy: ServerProcess, quotes: BodyRing, deltas: BodyRing, batches: BodyRing): Promise<string> {
  const answers = async (ring: BodyRing, key: (body: never) => string) =>
    Promise.all(
      ring.bodies.map(async (body) => {
        const { status, text } = await postJson(divy.origin, ring.path, body);
        if (status !== 200) throw new Error(`${ring.path} answered ${status}: ${text.slice(0, 300)}`);
        return [key(JSON.parse(body) as never), JSON.parse(text) as unknown] as const;
      }),
    );
  const templates: FloorTemplates = {
    quote: await answers(quotes, (body: QuoteBody) => quoteKey(body)),
    delta: await answers(deltas, (body: DeltaBody) => deltaKey(body)),
    batch: await answers(batches, (body: BatchBody) => batchKey(body)),
  };
  const file = join(tmpdir(), `divy-floor-templates-${process.pid}.json`);
  writeFileSync(file, JSON.stringify(templates));
  return file;
}

export async function startFloor(templatesFile: string): Promise<ServerProcess> {
  return startServer({ name: 'floor', script: FLOOR_SCRIPT, env: { FLOOR_TEMPLATES: templatesFile } });
}

/** The floor must answer every body of the ring with exactly Divy's text: the same shape and numbers. */
export async function checkFloor(divy: ServerProcess, floor: ServerProcess, ring: BodyRing): Promise<void> {
  for (const body of ring.bodies) {
    const [mine, bare] = await Promise.all([postJson(divy.origin, ring.path, body), postJson(floor.origin, ring.path, body)]);
    if (mine.status !== 200 || bare.status !== 200 || mine.text !== bare.text) throw new Error(`${ring.path}: the floor's answer differs from Divy's (${mine.status}, ${bare.status})`);
  }
}

export async function compareWithFloor(divy: ServerProcess, floor: ServerProcess, ring: BodyRing, label: string, run: FloorRun): Promise<FloorComparison> {
  process.stderr.write(`fair floor: ${label}, ${run.rounds} rounds of ${run.round_secs} s each\n`);
  await checkFloor(divy, floor, ring);
  const options = { connections: run.connections, seconds: run.round_secs };
  // Warm both up (JIT, connection setup) before anything counts.
  await closedLoop(divy.origin, ring, { ...options, seconds: 1 });
  await closedLoop(floor.origin, ring, { ...options, seconds: 1 });
  const divyRounds: LoadFigure[] = [];
  const floorRounds: LoadFigure[] = [];
  for (let round = 0; round < run.rounds; round += 1) {
    divyRounds.push(await closedLoop(divy.origin, ring, options));
    floorRounds.push(await closedLoop(floor.origin, ring, options));
  }
  return {
    path: ring.path,
    label,
    divy: medianFigure(divyRounds),
    floor: medianFigure(floorRounds),
    throughput_ratio: median(divyRounds.map((figure, round) => figure.requests_per_sec / floorRounds[round]!.requests_per_sec)),
    rounds: run.rounds,
  };
}

/** The median of each field over rounds; errors and non-2xx answers summed. */
export function medianFigure(rounds: readonly LoadFigure[]): LoadFigure {
  const of = (field: 'requests_per_sec' | 'p50_ms' | 'p99_ms') => median(rounds.map((figure) => figure[field]));
  return {
    requests: rounds.reduce((sum, figure) => sum + figure.requests, 0),
    seconds: rounds.reduce((sum, figure) => sum + figure.seconds, 0),
    requests_per_sec: of('requests_per_sec'),
    p50_ms: of('p50_ms'),
    p99_ms: of('p99_ms'),
    non2xx: rounds.reduce((sum, figure) => sum + figure.non2xx, 0),
    errors: rounds.reduce((sum, figure) => sum + figure.errors, 0),
  };
}

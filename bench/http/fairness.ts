/**
 * Fairness: do small requests still get answered while one client posts the largest deltas the
 * service takes, back to back? Quotes are due at a steady QUOTES_PER_SEC (open loop, timed from
 * when each was due), first alone and then beside a client that posts 10000-worker deltas, each
 * as soon as the last is answered. A Node process answers one request at a time, so a quote that
 * arrives during a large delta waits for it. The heavy client runs in a process of its own
 * (./heavy-client.ts), so that its own work is not timed as the quotes' wait.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { BodyRing } from './bodies.js';
import { backToBack, openLoop, type Sample } from './open-loop.js';
import { LOAD_CPU, PINNED, type ServerProcess } from './servers.js';
import { quantile } from './stats.js';

export const QUOTES_PER_SEC = 500;
export const HEAVY_WORKERS = 10_000;
const SETTLE_MS = 500;

export interface LatencyFigure {
  readonly count: number;
  /** Of the answered (2xx) requests. */
  readonly p50_ms: number;
  readonly p99_ms: number;
  /** Refused with a 503 to shed load. */
  readonly shed: number;
  /** Other than 2xx or 503, or no answer. */
  readonly failed: number;
}

export interface FairnessFigure {
  readonly seconds: number;
  readonly quotes_alone: LatencyFigure;
  readonly quotes_beside_heavy: LatencyFigure;
  readonly heavy: LatencyFigure;
}

/** Rounds of `seconds` quotes alone, then `seconds` beside the heavy client, so both see the same spells of the machine. */
export async function benchFairness(divy: ServerProcess, quotes: BodyRing, heavy: BodyRing, rounds: number, seconds: number): Promise<FairnessFigure> {
  process.stderr.write(`fairness: ${QUOTES_PER_SEC} quotes/s, ${rounds} rounds of ${seconds} s alone and ${seconds} s beside back-to-back ${HEAVY_WORKERS}-worker deltas\n`);
  const quoteBodies = quotes.bodies.map((body) => Buffer.from(body));
  const heavyBodies = heavy.bodies.map((body) => Buffer.from(body));
  const nextHeavy = (index: number) => ({ kind: 'heavy', path: heavy.path, body: heavyBodies[index % heavyBodies.length]! });
  const quoteLoad = () =>
    openLoop(divy.origin, {
      phases: [{ rate_per_sec: QUOTES_PER_SEC, seconds }],
      next: (index) => ({ kind: 'quote', path: quotes.path, body: quoteBodies[index % quoteBodies.length]! }),
      max_sockets: 64,
    });
  // Warm the heavy path, so its first compilations fall outside the figures.
  let warm = 0;
  await backToBack(divy.origin, nextHeavy, () => warm++ >= 3);
  const bodiesDirectory = mkdtempSync(join(tmpdir(), 'divy-bench-heavy-'));
  const bodiesFile = join(bodiesDirectory, 'bodies.json');
  writeFileSync(bodiesFile, JSON.stringify(heavy.bodies));

  const alone: Sample[] = [];
  const beside: Sample[] = [];
  const heavySamples: Sample[] = [];
  for (let round = 0; round < rounds; round += 1) {
    // The large requests held the event loop: let the server idle a moment before quotes go alone.
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    alone.push(...(await quoteLoad()));
    const heavyClient = await startHeavyClient(divy.origin, heavy.path, bodiesFile);
    beside.push(...(await quoteLoad()));
    heavySamples.push(...(await heavyClient.stop()));
  }
  rmSync(bodiesDirectory, { recursive: true, force: true });
  return { seconds: rounds * seconds, quotes_alone: latencyOf(alone), quotes_beside_heavy: latencyOf(beside), heavy: latencyOf(heavySamples) };
}

export function latencyOf(samples: readonly Sample[]): LatencyFigure {
  const answered = samples.filter((sample) => sample.status >= 200 && sample.status < 300);
  const latencies = answered.map((sample) => sample.done_ms - sample.due_ms);
  const shed = samples.filter((sample) => sample.status === 503).length;
  return { count: samples.length, p50_ms: quantile(latencies, 0.5), p99_ms: quantile(latencies, 0.99), shed, failed: samples.length - answered.length - shed };
}

/** How much lower than the quotes' client the heavy client runs: the quotes' client is woken first. */
const HEAVY_CLIENT_NICE = 10;

/** Starts the heavy client (./heavy-client.ts) on the load generator's core; resolves once it is sending. */
async function startHeavyClient(origin: string, path: string, bodiesFile: string): Promise<{ stop(): Promise<Sample[]> }> {
  const script = fileURLToPath(new URL('./heavy-client.js', import.meta.url));
  const command = ['nice', '-n', String(HEAVY_CLIENT_NICE), process.execPath, script, origin, path, bodiesFile];
  const child = PINNED ? spawn('taskset', ['-c', LOAD_CPU, ...command], { stdio: ['pipe', 'pipe', 'inherit'] }) : spawn(command[0]!, command.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.value !== 'ready') throw new Error(`the heavy client did not start: ${String(first.value)}`);
  return {
    async stop() {
      child.stdin!.end('stop\n');
      const samples = await lines.next();
      return JSON.parse(String(samples.value)) as Sample[];
    },
  };
}

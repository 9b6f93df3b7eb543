/**
 * Server processes under test: Divy as `npm start` runs it (`node`, the flags of
 * src/node-flags.ts, `dist/server.js`; the bench
 * scripts build dist/ first) and the fair floor, each pinned to CPU 0 with taskset, while the
 * load generator pins itself to CPU 1. Their log lines go to /dev/null, a
 * write per line as to any file. Where taskset is missing, they run unpinned and say so.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { SERVER_NODE_FLAGS } from '../../src/node-flags.js';

export const SERVER_CPU = '0';
/** What `npm start` runs (the bench scripts build dist/ first); BENCH_DIVY_SCRIPT measures another build. */
export const DIVY_SCRIPT = process.env['BENCH_DIVY_SCRIPT'] ?? fileURLToPath(new URL('../../../../dist/server.js', import.meta.url));
export const FLOOR_SCRIPT = fileURLToPath(new URL('./floor-server.js', import.meta.url));

export const PINNED = spawnSync('taskset', ['-c', SERVER_CPU, 'true']).status === 0;

export interface ServerProcess {
  readonly name: string;
  readonly origin: string;
  readonly pid: number;
  /** Resident set size from /proc/<pid>/status (VmRSS), in bytes; null off Linux. */
  rssBytes(): number | null;
  stop(): Promise<void>;
}

export interface StartOptions {
  readonly name: string;
  readonly script: string;
  readonly env?: Readonly<Record<string, string>>;
  /** Node flags, such as --cpu-prof. */
  readonly node_args?: readonly string[];
}

/** The server's own node flags, as npm start passes them; with BENCH_CPU_PROF_DIR, Divy also writes a V8 CPU profile of its whole run there when it stops. */
export function divyNodeArgs(): string[] {
  const directory = process.env['BENCH_CPU_PROF_DIR'];
  return [...SERVER_NODE_FLAGS, ...(directory === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', directory])];
}

export function startDivy(env?: Readonly<Record<string, string>>): Promise<ServerProcess> {
  return startServer({ name: 'divy', script: DIVY_SCRIPT, node_args: divyNodeArgs(), ...(env === undefined ? {} : { env }) });
}

export async function startServer(options: StartOptions): Promise<ServerProcess> {
  const port = await freePort();
  const command = [...(options.node_args ?? []), options.script];
  const child = PINNED
    ? spawn('taskset', ['-c', SERVER_CPU, process.execPath, ...command], { env: serverEnv(port, options.env), stdio: ['ignore', 'ignore', 'pipe'] })
    : spawn(process.execPath, command, { env: serverEnv(port, options.env), stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const origin = `http://127.0.0.1:${port}`;
  await waitHealthy(origin, child, () => stderr);
  // taskset execs node, so the child's pid is the server's.
  const pid = child.pid!;
  return {
    name: options.name,
    origin,
    pid,
    rssBytes: () => rssBytes(pid),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

function serverEnv(port: number, extra: Readonly<Record<string, string>> | undefined): NodeJS.ProcessEnv {
  return { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info', SHUTDOWN_DRAIN_MS: '0', ...extra };
}

async function waitHealthy(origin: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}: ${stderr()}`);
    try {
      if ((await fetch(`${origin}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`the server did not answer /healthz within 20 s: ${stderr()}`);
}

function rssBytes(pid: number): number | null {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((text) => text.startsWith('VmRSS:'));
    return line === undefined ? null : Number(line.split(/\s+/)[1]) * 1024;
  } catch {
    return null;
  }
}

/** A port nothing listens on now (the kernel's pick, released at once). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export const LOAD_CPU = '1';

/** Pins this process, every thread of it, to LOAD_CPU; false where taskset is missing. */
export function pinLoadGenerator(): boolean {
  return PINNED && spawnSync('taskset', ['-a', '-p', '-c', LOAD_CPU, String(process.pid)]).status === 0;
}

/** Posts one body and reads the answer. */
export async function postJson(origin: string, path: string, body: string): Promise<{ status: number; text: string }> {
  const response = await fetch(`${origin}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return { status: response.status, text: await response.text() };
}

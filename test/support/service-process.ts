/**
 * Real processes of the service, `node dist/server.js` as the container runs it (global-setup
 * builds dist/), and plain HTTP calls to them over fresh connections.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request, type Agent, type IncomingMessage } from 'node:http';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';
import { QUOTE_EXAMPLE } from '../../src/http/schemas/examples.js';
import { SERVER_NODE_FLAGS } from '../../src/node-flags.js';
import { waitFor } from './raw-http.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * For tests about processes (shutdown, cluster, a load balancer) that count every answer: a process
 * on a busy CI machine, beside other test files, can stall its event loop past the shedding
 * threshold and rightly shed a request. Shedding itself is tested in test/http/load-shedding.test.ts.
 */
export const NO_SHEDDING = { SHED_MAX_EVENT_LOOP_DELAY_MS: '0' } as const;
export const LISTENING = /^Server listening at http:\/\/127\.0\.0\.1:(\d+)$/;

export interface ServiceProcess {
  readonly child: ChildProcess;
  /** Every stdout line so far (JSON log lines). */
  readonly lines: string[];
  readonly stderr: () => string;
  readonly exited: Promise<number | null>;
}

/** A log line as pino writes it. */
export interface LogLine {
  msg?: string;
  pid?: number;
  [key: string]: unknown;
}

/**
 * `start` runs the service with exactly `env` (and PATH); every process started is killed after
 * each test of the file, should one still run.
 */
export function useServiceProcesses(): { start: (env: Record<string, string>, command?: readonly string[]) => ServiceProcess } {
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const child of children.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
  return {
    start(env, command = [process.execPath, ...SERVER_NODE_FLAGS, 'dist/server.js']) {
      const started = startService(env, command);
      children.push(started.child);
      return started;
    },
  };
}

function startService(env: Record<string, string>, command: readonly string[]): ServiceProcess {
  const child = spawn(command[0]!, command.slice(1), {
    cwd: ROOT,
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => lines.push(line));
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, lines, stderr: () => stderr, exited };
}

/** The lines that are JSON (log lines), parsed. */
export function messages(lines: readonly string[]): LogLine[] {
  return lines.flatMap((line) => {
    try {
      return [JSON.parse(line) as LogLine];
    } catch {
      return [];
    }
  });
}

/** Waits until `count` processes logged their listening line; returns the port and their pids. */
export async function listeningPort(server: ServiceProcess, timeoutMs = 10_000, count = 1): Promise<{ port: number; pid: number; pids: number[] }> {
  const listening = () => messages(server.lines).filter((line) => LISTENING.test(line.msg ?? ''));
  await waitFor(() => listening().length >= count, `${count} listening line(s)`, timeoutMs).catch((error: Error) => {
    throw new Error(`${error.message}; stderr: ${server.stderr()}`);
  });
  const lines = listening();
  const pids = lines.map((line) => line.pid!);
  return { port: Number(LISTENING.exec(lines[0]!.msg!)![1]), pid: pids[0]!, pids };
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export async function readBody(response: IncomingMessage): Promise<string> {
  response.setEncoding('utf8');
  let body = '';
  for await (const chunk of response) body += chunk as string;
  return body;
}

/** One GET over a fresh connection (no keep-alive, so nothing lingers to hold the server open). */
export function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: '127.0.0.1', port, path, agent: false }, (response) => {
      readBody(response).then((body) => resolve({ status: response.statusCode ?? 0, body }), reject);
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

export type QuoteOutcome = { status: number } | { error: string };

/**
 * One POST /quote: its status, or the error code if the connection failed. Over a fresh
 * connection, unless an agent that keeps connections alive is given.
 */
export function postQuote(port: number, agent: Agent | false = false): Promise<QuoteOutcome> {
  const body = JSON.stringify(QUOTE_EXAMPLE);
  return new Promise((resolve) => {
    const outgoing = request(
      { host: '127.0.0.1', port, method: 'POST', path: '/quote', agent, headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } },
      (response) => {
        readBody(response).then(
          () => resolve({ status: response.statusCode ?? 0 }),
          (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }),
        );
      },
    );
    outgoing.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
    outgoing.end(body);
  });
}

/** The outcomes that are not a 200. */
export function failures<Result extends { outcome: QuoteOutcome }>(results: readonly Result[]): Result[] {
  return results.filter((result) => !('status' in result.outcome) || result.outcome.status !== 200);
}

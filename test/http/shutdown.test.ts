/**
 * The real process, `node dist/server.js` as the container runs it: it finishes in-flight requests
 * on SIGTERM, refuses new connections, and exits 0; a bad configuration exits 1 at once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { QUOTE_EXAMPLE } from '../../src/http/schemas/examples.js';
import { quoteConsumption } from '../../src/policy/index.js';
import { delay, waitFor } from '../support/raw-http.js';
import { useTempDir } from '../support/temp-dir.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const LISTENING = /^Server listening at http:\/\/127\.0\.0\.1:(\d+)$/;

interface Server {
  readonly child: ChildProcess;
  /** Every stdout line so far (JSON log lines). */
  readonly lines: string[];
  readonly stderr: () => string;
  readonly exited: Promise<number | null>;
}

const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
});

function startServer(env: Record<string, string>): Server {
  const child = spawn(process.execPath, ['dist/server.js'], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const lines: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => lines.push(line));
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, lines, stderr: () => stderr, exited };
}

function messages(lines: readonly string[]): { msg?: string; [key: string]: unknown }[] {
  return lines.flatMap((line) => {
    try {
      return [JSON.parse(line) as { msg?: string }];
    } catch {
      return [];
    }
  });
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
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

async function readBody(response: IncomingMessage): Promise<string> {
  response.setEncoding('utf8');
  let body = '';
  for await (const chunk of response) body += chunk as string;
  return body;
}

/** One GET over a fresh connection (no keep-alive, so nothing lingers to hold the server open). */
function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: '127.0.0.1', port, path, agent: false }, (response) => {
      readBody(response).then((body) => resolve({ status: response.statusCode ?? 0, body }), reject);
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

/** Resolves with the error code of a connection attempt that fails; rejects if it connects. */
function connectionFailure(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      reject(new Error('a new connection was accepted during shutdown'));
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

describe('the server process', () => {
  it('on SIGTERM finishes the in-flight request, refuses new connections and exits 0', async () => {
    const server = startServer({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', SHUTDOWN_GRACE_MS: '5000' });

    await waitFor(() => messages(server.lines).some((line) => LISTENING.test(line.msg ?? '')), 'the listening line', 10_000).catch(
      (error: Error) => {
        throw new Error(`${error.message}; stderr: ${server.stderr()}`);
      },
    );
    const listening = messages(server.lines).find((line) => LISTENING.test(line.msg ?? ''))!;
    const port = Number(LISTENING.exec(listening.msg!)![1]);
    expect(port).toBeGreaterThan(0);

    const health = await withTimeout(get(port, '/healthz'), 5000, 'GET /healthz');
    expect(health).toEqual({ status: 200, body: '{"status":"ok"}' });

    // A POST whose body arrives in two parts, with SIGTERM in between.
    const body = JSON.stringify(QUOTE_EXAMPLE);
    const half = Math.floor(body.length / 2);
    const inflight = request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/quote',
      agent: false,
      headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'x-request-id': 'inflight-1' },
    });
    const answered = new Promise<{ status: number; body: string }>((resolve, reject) => {
      inflight.on('response', (response) => {
        readBody(response).then((text) => resolve({ status: response.statusCode ?? 0, body: text }), reject);
      });
      inflight.on('error', reject);
    });
    answered.catch(() => undefined);
    inflight.write(body.slice(0, half));
    await delay(200);

    server.child.kill('SIGTERM');
    await waitFor(() => messages(server.lines).some((line) => line.msg?.startsWith('shutting down') === true), 'the shutting-down line');
    await delay(200);

    const refused = await withTimeout(connectionFailure(port), 5000, 'a new connection attempt');
    expect(['ECONNREFUSED', 'ECONNRESET']).toContain(refused);
    expect(server.child.exitCode).toBeNull();

    inflight.end(body.slice(half));
    const response = await withTimeout(answered, 5000, 'the in-flight answer');
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toStrictEqual(quoteConsumption(QUOTE_EXAMPLE));
    expect(JSON.parse(response.body)).toMatchObject({ total_credits: '768.000000000', max_affordable_completion_tokens: 222 });

    const code = await withTimeout(server.exited, 5000, 'the process to exit');
    expect(code).toBe(0);

    const logged = messages(server.lines);
    expect(logged.find((line) => line.msg?.startsWith('shutting down'))).toMatchObject({
      msg: 'shutting down: finishing in-flight requests',
      signal: 'SIGTERM',
    });
    expect(logged.find((line) => line['request_id'] === 'inflight-1')).toMatchObject({
      msg: 'request completed',
      method: 'POST',
      url: '/quote',
      status_code: 200,
    });
    expect(logged.find((line) => line.msg === 'ready')).toMatchObject({ policy_version: 'divy-credit-1', policy_versions: ['divy-credit-1'], credit_scale: 9 });
    expect(server.stderr()).toBe('');
  });

  describe('with a POLICY_FILE of two policies', () => {
    const policyFile = useTempDir('divy-process-test-').writeJson;

    it('serves both, names them and the credit scale when ready, and stops cleanly on SIGTERM', async () => {
      const POLICY_FILE = policyFile('two.json', { current: 'v-new', policies: [{ version: 'v-old' }, { version: 'v-new', model_size_scale_gib: 16 }] });
      const server = startServer({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', POLICY_FILE, CREDIT_SCALE: '6' });
      await waitFor(() => messages(server.lines).some((line) => line.msg === 'ready'), 'the ready line', 10_000).catch((error: Error) => {
        throw new Error(`${error.message}; stderr: ${server.stderr()}`);
      });
      expect(messages(server.lines).find((line) => line.msg === 'ready')).toMatchObject({ policy_version: 'v-new', policy_versions: ['v-old', 'v-new'], credit_scale: 6 });
      const listening = messages(server.lines).find((line) => LISTENING.test(line.msg ?? ''))!;
      const port = Number(LISTENING.exec(listening.msg!)![1]);

      const old = await withTimeout(get(port, '/policy/v-old'), 5000, 'GET /policy/v-old');
      expect(old.status).toBe(200);
      expect(JSON.parse(old.body)).toMatchObject({ policy_version: 'v-old', current: false, parameters: { model_size_scale_gib: 32 } });
      const policy = await withTimeout(get(port, '/policy'), 5000, 'GET /policy');
      expect(JSON.parse(policy.body)).toMatchObject({
        policy_version: 'v-new',
        credit_scale: 6,
        parameters: { model_size_scale_gib: 16 },
        policies: [
          { policy_version: 'v-old', current: false },
          { policy_version: 'v-new', current: true },
        ],
      });

      server.child.kill('SIGTERM');
      expect(await withTimeout(server.exited, 5000, 'the process to exit')).toBe(0);
      expect(server.stderr()).toBe('');
    });

    it('whose current version is not among them exits 1 at once and says so on stderr', async () => {
      const POLICY_FILE = policyFile('no-current.json', { current: 'v-3', policies: [{ version: 'v-1' }, { version: 'v-2' }] });
      const server = startServer({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', POLICY_FILE });
      expect(await withTimeout(server.exited, 10_000, 'the process to exit')).toBe(1);
      expect(server.stderr()).toBe(
        `divy: invalid policy settings from POLICY_FILE ${POLICY_FILE} with CREDIT_SCALE and MAX_ASSIGNMENTS: current (v-3) must be one of the versions: v-1, v-2\n`,
      );
      expect(server.lines).toEqual([]);
    });
  });

  it('with a bad environment exits 1 at once and names the variable on stderr', async () => {
    const server = startServer({ PORT: 'abc', HOST: '127.0.0.1', LOG_LEVEL: 'info' });
    const code = await withTimeout(server.exited, 10_000, 'the process to exit');
    expect(code).toBe(1);
    expect(server.stderr()).toBe('divy: invalid configuration in the environment: PORT: must be an integer from 0 to 65535\n');
    expect(server.lines).toEqual([]);
  });
});

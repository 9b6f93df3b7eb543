/**
 * The real process, `node dist/server.js` as the container runs it: it finishes in-flight requests
 * on SIGTERM, refuses new connections, and exits 0; a bad configuration exits 1 at once.
 */
import { request } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { QUOTE_EXAMPLE } from '../../src/http/schemas/examples.js';
import { quoteConsumption } from '../../src/policy/index.js';
import { delay, waitFor } from '../support/raw-http.js';
import { get, LISTENING, listeningPort, messages, NO_SHEDDING, postQuote, readBody, useServiceProcesses, withTimeout } from '../support/service-process.js';
import { useTempDir } from '../support/temp-dir.js';

const { start: startServer } = useServiceProcesses();

/** Node processes started under npm, killed after each test should one outlive its npm. */
const strayPids: number[] = [];

afterEach(() => {
  for (const pid of strayPids.splice(0)) {
    if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  }
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
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
    const server = startServer({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...NO_SHEDDING, SHUTDOWN_GRACE_MS: '5000' });

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
    expect(logged.filter((line) => line.msg?.startsWith('shutting down'))).toMatchObject([
      { msg: 'shutting down: not ready, draining before the listener closes', signal: 'SIGTERM', shutdown_drain_ms: 0 },
      { msg: 'shutting down: closing the listener, finishing in-flight requests', signal: 'SIGTERM', shutdown_grace_ms: 5000 },
    ]);
    expect(logged.find((line) => line['request_id'] === 'inflight-1')).toMatchObject({
      msg: 'request completed',
      method: 'POST',
      url: '/quote',
      status_code: 200,
    });
    expect(logged.find((line) => line.msg === 'ready')).toMatchObject({ policy_version: 'divy-credit-1', policy_versions: ['divy-credit-1'], credit_scale: 9 });
    expect(server.stderr()).toBe('');
  });

  it('on SIGTERM under load: /readyz 503 during the drain while requests are served, every request sent before the signal answered 200, exit 0', async () => {
    const DRAIN = 1500;
    const GRACE = 3000;
    const server = startServer({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...NO_SHEDDING, SHUTDOWN_DRAIN_MS: String(DRAIN), SHUTDOWN_GRACE_MS: String(GRACE) });
    const { port } = await listeningPort(server);
    expect(await withTimeout(get(port, '/readyz'), 5000, 'GET /readyz')).toMatchObject({ status: 200 });

    // Four clients, each sending one POST /quote after another (at most 150 each), until told to stop.
    const results: { sentBeforeSignal: boolean; outcome: { status: number } | { error: string } }[] = [];
    let signalledAt = Infinity;
    let stop = false;
    const clients = Array.from({ length: 4 }, async () => {
      for (let sent = 0; sent < 150 && !stop; sent += 1) {
        const sentBeforeSignal = Date.now() < signalledAt;
        results.push({ sentBeforeSignal, outcome: await postQuote(port) });
      }
    });
    await delay(300);

    signalledAt = Date.now();
    server.child.kill('SIGTERM');
    await waitFor(() => messages(server.lines).some((line) => line.msg?.startsWith('shutting down') === true), 'the shutting-down line');

    // During the drain: not ready, but still serving, on new connections too.
    const ready = await withTimeout(get(port, '/readyz'), 2000, 'GET /readyz during the drain');
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.body)).toMatchObject({ status: 503, title: 'Service Unavailable' });
    expect(await withTimeout(postQuote(port), 2000, 'POST /quote during the drain')).toEqual({ status: 200 });
    expect(await withTimeout(get(port, '/healthz'), 2000, 'GET /healthz during the drain')).toMatchObject({ status: 200 });
    const duringDrain = Date.now() - signalledAt;
    expect(duringDrain).toBeLessThan(DRAIN);
    expect(server.child.exitCode).toBeNull();
    stop = true;
    await withTimeout(Promise.all(clients), 5000, 'the clients to finish');

    const code = await withTimeout(server.exited, DRAIN + GRACE + 3000, 'the process to exit');
    const elapsed = Date.now() - signalledAt;
    expect(code).toBe(0);
    // The drain is waited out; with nothing slow in flight, the close after it is quick.
    expect(elapsed).toBeGreaterThanOrEqual(DRAIN - 50);
    expect(elapsed).toBeLessThan(DRAIN + 1500);

    const beforeSignal = results.filter((result) => result.sentBeforeSignal);
    expect(beforeSignal.length).toBeGreaterThan(4);
    expect(beforeSignal.filter((result) => !('status' in result.outcome) || result.outcome.status !== 200)).toEqual([]);
    // Everything sent during the drain was served too: the listener was still open.
    expect(results.filter((result) => !('status' in result.outcome) || result.outcome.status !== 200)).toEqual([]);
    expect(messages(server.lines).some((line) => line.msg?.startsWith('grace period over') === true)).toBe(false);
    expect(server.stderr()).toBe('');
  });

  it('a client that never finishes its body does not hold the exit: its connection is closed after the grace period and the exit is 0', async () => {
    const DRAIN = 300;
    const GRACE = 1000;
    const server = startServer({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...NO_SHEDDING, SHUTDOWN_DRAIN_MS: String(DRAIN), SHUTDOWN_GRACE_MS: String(GRACE) });
    const { port } = await listeningPort(server);

    const body = JSON.stringify(QUOTE_EXAMPLE);
    const slow = request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/quote',
      agent: false,
      headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
    });
    const cut = new Promise<string>((resolve) => {
      slow.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
      slow.on('response', (response) => resolve(`answered ${response.statusCode}`));
    });
    slow.write(body.slice(0, 10));
    await delay(200);

    const signalledAt = Date.now();
    server.child.kill('SIGTERM');
    const code = await withTimeout(server.exited, DRAIN + GRACE + 3000, 'the process to exit');
    const elapsed = Date.now() - signalledAt;
    expect(code).toBe(0);
    expect(elapsed).toBeGreaterThanOrEqual(DRAIN + GRACE - 50);
    expect(elapsed).toBeLessThan(DRAIN + GRACE + 1500);
    expect(await withTimeout(cut, 2000, 'the slow request to end')).toBe('ECONNRESET');
    expect(messages(server.lines).find((line) => line.msg?.startsWith('grace period over') === true)).toMatchObject({ shutdown_grace_ms: GRACE });
    expect(server.stderr()).toBe('');
  });

  it('SIGTERM to the npm process of `npm start` stops node too', async () => {
    // `--ignore-scripts` skips only prestart (the build global-setup already ran; a second tsc
    // rewriting dist/ could race the other process tests); start itself runs as `npm start` runs it.
    const server = startServer(
      { HOME: process.env['HOME'] ?? '/tmp', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...NO_SHEDDING, SHUTDOWN_DRAIN_MS: '0', SHUTDOWN_GRACE_MS: '2000' },
      ['npm', 'start', '--ignore-scripts'],
    );
    const { port, pid } = await listeningPort(server, 20_000);
    strayPids.push(pid);
    expect(pid).not.toBe(server.child.pid);
    expect(await withTimeout(get(port, '/healthz'), 5000, 'GET /healthz')).toMatchObject({ status: 200 });

    const signalledAt = Date.now();
    server.child.kill('SIGTERM');
    const code = await withTimeout(server.exited, 5000, 'npm to exit');
    await waitFor(() => !isAlive(pid), 'node to exit', 5000);
    const elapsed = Date.now() - signalledAt;
    expect(elapsed).toBeLessThan(3000);
    expect(code).toBe(0);
    expect(['ECONNREFUSED', 'ECONNRESET']).toContain(await withTimeout(connectionFailure(port), 5000, 'a connection attempt'));
    expect(messages(server.lines).find((line) => line.msg?.startsWith('shutting down') === true)).toMatchObject({ signal: 'SIGTERM', pid });
  }, 60_000);

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

/**
 * The shipped deploy/nginx/nginx.conf, run by Debian's nginx in front of two replicas on
 * 127.0.0.1: each replica is restarted in turn under steady load, and every request is answered
 * 200; replicas that shed load have their refusals passed on, and stay in rotation; a replica's
 * 503 without Retry-After (shutting down) is tried again on the other replica. Only the upstream
 * servers, the listen address and the file paths differ from the shipped file (see
 * nginxConfigFor). nginx must be installed (.ci/run installs it): without it these tests fail,
 * they are not skipped.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, createServer as createHttpServer, request, type Server } from 'node:http';
import { createServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { NGINX_CONF_PATH, nginxConfigFor, readProjectFile } from '../support/deploy-files.js';
import { delay, waitFor } from '../support/raw-http.js';
import { failures, get, listeningPort, messages, NO_SHEDDING, postQuote, readBody, useServiceProcesses, withTimeout, type QuoteOutcome, type ServiceProcess } from '../support/service-process.js';
import { useTempDir } from '../support/temp-dir.js';

const NGINX = '/usr/sbin/nginx';
/** Eight clients at 40 requests a second each: about 320 a second, through nginx. */
const CLIENTS = 8;
const REQUESTS_PER_SECOND_PER_CLIENT = 40;
/** Bounds on the load, whatever happens: it stops by itself. */
const LOAD_REQUESTS_MAX = 20_000;
const LOAD_MS_MAX = 60_000;

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

/** SIGTERM, not SIGKILL: nginx's master stops its workers only when it is itself let to stop. */
async function stopNginx(running: ChildProcess | undefined): Promise<void> {
  if (running === undefined || running.exitCode !== null || running.signalCode !== null) return;
  const exited = new Promise((resolve) => running.once('exit', resolve));
  running.kill('SIGTERM');
  await withTimeout(exited, 10_000, 'nginx to stop').catch(() => running.kill('SIGKILL'));
}

/** A GET through nginx with the given headers: status, x-request-id of the answer. */
function getWithHeaders(port: number, path: string, headers: Record<string, string>): Promise<{ status: number; requestId: string | undefined }> {
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: '127.0.0.1', port, path, agent: false, headers }, (response) => {
      const requestId = response.headers['x-request-id'];
      readBody(response).then(() => resolve({ status: response.statusCode ?? 0, requestId: typeof requestId === 'string' ? requestId : undefined }), reject);
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

describe('the shipped nginx configuration in front of two replicas', () => {
  const directory = useTempDir('divy-nginx-test-');
  const { start } = useServiceProcesses();
  let nginx: ChildProcess | undefined;
  let nginxStderr = '';
  let ports: { replicas: number[]; nginx: number };
  // Without load shedding: on this shared two-core machine a replica starting beside the others can
  // stall an event loop past the shedding threshold for reasons of its own, and a shed 503 counts
  // toward nginx's max_fails like a refused connection. This test is about restarts.
  const replicaEnv = (port: number) => ({
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    SHUTDOWN_DRAIN_MS: '500',
    SHUTDOWN_GRACE_MS: '5000',
    ...NO_SHEDDING,
  });

  beforeAll(async () => {
    if (!existsSync(NGINX)) {
      throw new Error(`${NGINX} is missing: install Debian's nginx (apt-get install -y nginx; .ci/run does) to test ${NGINX_CONF_PATH}`);
    }
    expect(loadConfig(replicaEnv(3000)).load_shedding.max_event_loop_delay_ms).toBe(0);
    ports = { replicas: [await freePort(), await freePort()], nginx: await freePort() };
    // nginx's workers run as an unprivileged user when the tests run as root: they must write here.
    chmodSync(directory.path(''), 0o777);
    const config = nginxConfigFor(readProjectFile(NGINX_CONF_PATH), {
      upstreams: ports.replicas.map((port) => `127.0.0.1:${port}`),
      listen: `127.0.0.1:${ports.nginx}`,
      directory: directory.path(''),
    });
    writeFileSync(directory.path('nginx.conf'), config);
  });

  afterAll(() => stopNginx(nginx));

  function nginxArgs(...extra: string[]): string[] {
    return ['-p', directory.path(''), '-c', directory.path('nginx.conf'), '-e', directory.path('startup-error.log'), ...extra];
  }

  it('differs from the shipped file only in upstream servers, listen address and file paths', () => {
    const shipped = readProjectFile(NGINX_CONF_PATH).split('\n');
    const derived = readFileSync(directory.path('nginx.conf'), 'utf8').split('\n');
    // One shipped upstream server fewer: two replicas here, three in compose.
    expect(derived.length).toBe(shipped.length - 1);
    const changed = derived.filter((line) => !shipped.includes(line)).map((line) => line.trim().split(/\s+/)[0]);
    expect(changed).toEqual(['pid', 'error_log', 'client_body_temp_path', 'proxy_temp_path', 'fastcgi_temp_path', 'uwsgi_temp_path', 'scgi_temp_path', 'access_log', 'server', 'server', 'listen']);
    expect(derived.join('\n')).not.toMatch(/\/var\//);
  });

  it('is valid for nginx -t', () => {
    const checked = spawnSync(NGINX, nginxArgs('-t'), { encoding: 'utf8', timeout: 10_000 });
    expect(checked.stderr).toContain('syntax is ok');
    expect(checked.status).toBe(0);
  });

  it('keeps answering every request 200 while each replica is restarted in turn', async () => {
    const replicas: ServiceProcess[] = [];
    const retired: ServiceProcess[] = [];
    for (const port of ports.replicas) replicas.push(start(replicaEnv(port)));
    await Promise.all(replicas.map((replica) => listeningPort(replica, 20_000)));

    nginx = spawn(NGINX, nginxArgs('-g', 'daemon off;'), { stdio: ['ignore', 'ignore', 'pipe'] });
    nginx.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      nginxStderr += chunk;
    });
    await waitFor(() => existsSync(directory.path('nginx.pid')), 'nginx to start', 10_000).catch((error: Error) => {
      throw new Error(`${error.message}; nginx said: ${nginxStderr}`);
    });
    await withTimeout(
      (async () => {
        while ((await get(ports.nginx, '/healthz').catch(() => ({ status: 0 }))).status !== 200) await delay(50);
      })(),
      10_000,
      'nginx to answer /healthz',
    );

    // The caller's request id reaches the replica and comes back; without one, nginx makes one.
    expect(await getWithHeaders(ports.nginx, '/healthz', { 'x-request-id': 'through-nginx-1' })).toEqual({ status: 200, requestId: 'through-nginx-1' });
    const made = await getWithHeaders(ports.nginx, '/healthz', {});
    expect(made.requestId).toMatch(/^[0-9a-f]{32}$/);
    await waitFor(() => replicas.some((replica) => messages(replica.lines).some((line) => line['request_id'] === 'through-nginx-1')), 'a replica to log the id');

    const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
    const results: { outcome: QuoteOutcome }[] = [];
    let restartsDone = false;
    const loadStartedAt = performance.now();
    const clients = Array.from({ length: CLIENTS }, async () => {
      let next = performance.now();
      while (!restartsDone && results.length < LOAD_REQUESTS_MAX && performance.now() - loadStartedAt < LOAD_MS_MAX) {
        next += 1000 / REQUESTS_PER_SECOND_PER_CLIENT;
        results.push({ outcome: await postQuote(ports.nginx, agent) });
        const wait = next - performance.now();
        if (wait > 0) await delay(wait);
      }
    });

    await delay(500);
    for (const [index, port] of ports.replicas.entries()) {
      const old = replicas[index]!;
      retired.push(old);
      old.child.kill('SIGTERM');
      expect(await withTimeout(old.exited, 10_000, `replica ${index} to exit`)).toBe(0);
      const fresh = start(replicaEnv(port));
      replicas[index] = fresh;
      const { pid } = await listeningPort(fresh, 20_000);
      // nginx takes the replica back after fail_timeout; the next restart waits for that, as a
      // rolling restart waits for readiness.
      await waitFor(() => messages(fresh.lines).some((line) => line.msg === 'request completed' && line.pid === pid), `replica ${index} to serve through nginx again`, 20_000);
    }
    restartsDone = true;
    await withTimeout(Promise.all(clients), 10_000, 'the clients to finish');
    const elapsedMs = performance.now() - loadStartedAt;
    agent.destroy();

    // On failure, say what nginx and the replicas saw.
    const errorLog = () => readFileSync(directory.path('error.log'), 'utf8').split('\n').slice(-20).join('\n');
    const replicaAnswers = (replica: ServiceProcess) => messages(replica.lines).filter((line) => line.msg === 'request completed' && line['status_code'] !== 200);
    const notOk = [...retired, ...replicas].flatMap(replicaAnswers).map((line) => `${String(line.pid)}: ${String(line['status_code'])} at ${String(line['time'])}`);
    expect(failures(results), `replicas answered: ${notOk.join('; ')}\nnginx's error log ends:\n${errorLog()}`).toEqual([]);
    expect(results.length).toBeGreaterThan(500);
    expect(results.length).toBeLessThan(LOAD_REQUESTS_MAX);
    // nginx did retry: some requests name two upstreams in the access log.
    const retried = readFileSync(directory.path('access.log'), 'utf8')
      .split('\n')
      .filter((line) => /upstream=\S+(, | : )/.test(line) && line.includes('POST /quote'));
    expect(retried.length).toBeGreaterThan(0);
    console.info(`nginx: ${results.length} requests in ${Math.round(elapsedMs)} ms (${Math.round((results.length * 1000) / elapsedMs)}/s), all 200; ${retried.length} retried on the other replica`);

    nginx.kill('SIGQUIT');
    expect(await withTimeout(new Promise((resolve) => nginx!.once('exit', resolve)), 10_000, 'nginx to stop')).toBe(0);
  }, 120_000);
});

/** nginx with the shipped configuration in front of `upstreams`, in a test directory of its own; stopped after the file's tests. */
function useNginx(prefix: string) {
  const directory = useTempDir(prefix);
  let nginx: ChildProcess | undefined;
  afterAll(() => stopNginx(nginx));
  return async (upstreams: readonly number[]): Promise<number> => {
    const port = await freePort();
    chmodSync(directory.path(''), 0o777);
    const config = nginxConfigFor(readProjectFile(NGINX_CONF_PATH), { upstreams: upstreams.map((upstream) => `127.0.0.1:${upstream}`), listen: `127.0.0.1:${port}`, directory: directory.path('') });
    writeFileSync(directory.path('nginx.conf'), config);
    let stderr = '';
    nginx = spawn(NGINX, ['-p', directory.path(''), '-c', directory.path('nginx.conf'), '-e', directory.path('startup-error.log'), '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
    nginx.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    await waitFor(() => existsSync(directory.path('nginx.pid')), 'nginx to start', 10_000).catch((error: Error) => {
      throw new Error(`${error.message}; nginx said: ${stderr}`);
    });
    return port;
  };
}

/** One POST /quote through nginx with a request id: status, the headers that matter here, body. */
function postQuoteWithId(port: number, requestId: string): Promise<{ status: number; headers: Record<string, string | undefined>; body: string }> {
  const body = JSON.stringify({ prompt_tokens: 10, requested_completion_tokens: 5, total_model_bytes: 2 ** 30 });
  return new Promise((resolve, reject) => {
    const outgoing = request(
      { host: '127.0.0.1', port, method: 'POST', path: '/quote', agent: false, headers: { 'content-type': 'application/json', 'content-length': String(body.length), 'x-request-id': requestId } },
      (response) => {
        const headers = { 'content-type': response.headers['content-type'], 'retry-after': response.headers['retry-after'], 'x-request-id': response.headers['x-request-id'] as string | undefined };
        readBody(response).then((text) => resolve({ status: response.statusCode ?? 0, headers, body: text }), reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

describe('the shipped nginx configuration in front of replicas that shed load', () => {
  const { start } = useServiceProcesses();
  const startNginx = useNginx('divy-nginx-shed-');

  it('passes each refusal on as an overloaded problem with Retry-After, and keeps the replicas in rotation', async () => {
    if (!existsSync(NGINX)) throw new Error(`${NGINX} is missing: install Debian's nginx`);
    const replicaPorts = [await freePort(), await freePort()];
    // A heap limit of 1 byte: every request is shed, from two samples after the start on.
    const replicas = replicaPorts.map((port) => start({ PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info', SHED_MAX_HEAP_USED_BYTES: '1', SHED_RETRY_AFTER_S: '2' }));
    await Promise.all(replicas.map((replica) => listeningPort(replica, 20_000)));
    const port = await startNginx(replicaPorts);
    await delay(500);
    // Three failures in fail_timeout would take a replica out of rotation: ten refusals each.
    for (let index = 0; index < 20; index += 1) {
      const answer = await postQuoteWithId(port, `shed-${index}`);
      expect(answer).toEqual({
        status: 503,
        headers: { 'content-type': 'application/problem+json; charset=utf-8', 'retry-after': '2', 'x-request-id': `shed-${index}` },
        body: JSON.stringify({
          type: 'urn:divy:problem:overloaded',
          title: 'Service Unavailable',
          status: 503,
          detail: 'The service is shedding load; retry after 2 s (Retry-After).',
          request_id: `shed-${index}`,
        }),
      });
    }
    // Every replica answered the refusals, and each still takes requests: /healthz is never shed.
    for (const [index, replica] of replicas.entries()) {
      await waitFor(() => messages(replica.lines).some((line) => line.msg === 'shedding load'), `replica ${index} to log that it sheds`);
    }
    for (let index = 0; index < 4; index += 1) expect((await get(port, '/healthz')).status).toBe(200);
  }, 60_000);
});

describe('the shipped nginx configuration in front of a replica shutting down', () => {
  const { start } = useServiceProcesses();
  const startNginx = useNginx('divy-nginx-unavailable-');
  let stub: Server | undefined;
  afterAll(() => new Promise<void>((resolve) => (stub === undefined ? resolve() : stub.close(() => resolve()))));

  it('tries a request answered 503 without Retry-After once more, on the other replica, body and all', async () => {
    if (!existsSync(NGINX)) throw new Error(`${NGINX} is missing: install Debian's nginx`);
    // The first replica answers every request as a replica past its drain does: 503, connection closed.
    const received: number[] = [];
    stub = createHttpServer((incoming, response) => {
      let bytes = 0;
      incoming.on('data', (chunk: Buffer) => (bytes += chunk.length));
      incoming.on('end', () => {
        received.push(bytes);
        response.writeHead(503, { 'content-type': 'application/problem+json', connection: 'close' });
        response.end(JSON.stringify({ type: 'urn:divy:problem:shutting-down', status: 503 }));
      });
    });
    const stubPort = await freePort();
    await new Promise<void>((resolve) => stub!.listen(stubPort, '127.0.0.1', resolve));
    const replicaPort = await freePort();
    const replica = start({ PORT: String(replicaPort), HOST: '127.0.0.1', LOG_LEVEL: 'info', ...NO_SHEDDING });
    await listeningPort(replica, 20_000);
    const port = await startNginx([stubPort, replicaPort]);
    for (let index = 0; index < 6; index += 1) {
      const answer = await postQuoteWithId(port, `retried-${index}`);
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toMatchObject({ total_credits: expect.any(String) });
    }
    // Round robin sent some first attempts to the stub, which got the whole body each time.
    expect(received.length).toBeGreaterThan(0);
    expect(new Set(received)).toEqual(new Set([JSON.stringify({ prompt_tokens: 10, requested_completion_tokens: 5, total_model_bytes: 2 ** 30 }).length]));
  }, 60_000);
});

describe('the shipped nginx configuration in front of replicas that are all busy', () => {
  const startNginx = useNginx('divy-nginx-busy-');
  const stubs: Server[] = [];
  const held: Array<() => void> = [];
  afterAll(async () => {
    for (const release of held.splice(0)) release();
    await Promise.all(stubs.map((stub) => new Promise<void>((resolve) => stub.close(() => resolve()))));
  });

  it('sends each replica at most max_conns requests at once, and refuses the next itself, as an overloaded problem with Retry-After', async () => {
    if (!existsSync(NGINX)) throw new Error(`${NGINX} is missing: install Debian's nginx`);
    const maxConns = Number(/max_conns=(\d+)/.exec(readProjectFile(NGINX_CONF_PATH))![1]);
    // Two replicas that take every request and answer none until released: busy, not failing.
    const ports: number[] = [];
    for (let index = 0; index < 2; index += 1) {
      const stub = createHttpServer((incoming, response) => {
        incoming.resume();
        held.push(() => response.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
      });
      const port = await freePort();
      await new Promise<void>((resolve) => stub.listen(port, '127.0.0.1', resolve));
      stubs.push(stub);
      ports.push(port);
    }
    const port = await startNginx(ports);
    const busy = Array.from({ length: 2 * maxConns }, (_, index) => postQuoteWithId(port, `held-${index}`));
    await waitFor(() => held.length === 2 * maxConns, `both replicas to hold ${maxConns} requests each`, 10_000);
    const refused = await postQuoteWithId(port, 'one-too-many');
    expect(refused).toEqual({
      status: 503,
      headers: { 'content-type': 'application/problem+json; charset=utf-8', 'retry-after': '1', 'x-request-id': 'one-too-many' },
      body: JSON.stringify({
        type: 'urn:divy:problem:overloaded',
        title: 'Service Unavailable',
        status: 503,
        detail: 'No replica can take the request now; retry after 1 s (Retry-After).',
        request_id: 'one-too-many',
      }),
    });
    // Released, every held request is answered, and none was sent twice.
    for (const release of held.splice(0)) release();
    expect((await Promise.all(busy)).map((answer) => answer.status)).toEqual(Array<number>(2 * maxConns).fill(200));
    expect(held).toHaveLength(0);
  }, 60_000);
});

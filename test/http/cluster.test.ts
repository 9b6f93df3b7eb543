/**
 * WORKERS above 1: a cluster primary and its workers, as real processes. The workers share one
 * port; one that dies is replaced; SIGTERM to the primary drains every worker and exits 0.
 */
import { createServer, type Server } from 'node:net';
import { describe, expect, it } from 'vitest';
import { RESTART_DELAY_MS_MIN, RESTARTS_PER_WINDOW_MAX } from '../../src/cluster.js';
import { delay, waitFor } from '../support/raw-http.js';
import { failures, get, listeningPort, messages, NO_SHEDDING, postQuote, useServiceProcesses, withTimeout, type QuoteOutcome, type ServiceProcess } from '../support/service-process.js';

const { start } = useServiceProcesses();

const BASE_ENV = { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...NO_SHEDDING };

/** The primary's log lines with this message. */
function logged(server: ServiceProcess, msg: string) {
  return messages(server.lines).filter((line) => line.msg === msg);
}

describe('WORKERS=2', () => {
  it('runs two workers on one port, under a primary that serves nothing itself, and both answer', async () => {
    const server = start({ ...BASE_ENV, WORKERS: '2' });
    const { port, pids } = await listeningPort(server, 20_000, 2);
    const primary = server.child.pid!;
    expect(new Set(pids).size).toBe(2);
    expect(pids).not.toContain(primary);
    expect(logged(server, 'starting workers')).toMatchObject([{ pid: primary, workers: 2 }]);
    await waitFor(() => logged(server, 'worker listening').length === 2, 'the primary to see both workers listen');
    expect(logged(server, 'worker listening').map((line) => line['port'])).toEqual([port, port]);

    const answers = await Promise.all(Array.from({ length: 12 }, () => postQuote(port)));
    expect(answers).toEqual(Array.from({ length: 12 }, () => ({ status: 200 })));
    // The primary hands connections round-robin, so both workers answered. Their request lines
    // come within the logger's flush interval.
    const answeredBy = () => new Set(messages(server.lines).filter((line) => line.msg === 'request completed').map((line) => line.pid));
    await waitFor(() => answeredBy().size === 2, 'a request line from each worker');
    expect([...answeredBy()].sort()).toEqual([...pids].sort());
    expect(await withTimeout(get(port, '/readyz'), 5000, 'GET /readyz')).toMatchObject({ status: 200 });

    server.child.kill('SIGTERM');
    expect(await withTimeout(server.exited, 10_000, 'the primary to exit')).toBe(0);
    expect(server.stderr()).toBe('');
  }, 60_000);

  it('replaces a worker killed with SIGKILL, and the service keeps answering', async () => {
    const server = start({ ...BASE_ENV, WORKERS: '2' });
    const { port, pids } = await listeningPort(server, 20_000, 2);
    const killed = pids[0]!;

    process.kill(killed, 'SIGKILL');
    await waitFor(() => logged(server, 'worker died: restarting it').length === 1, 'the primary to see the worker die');
    expect(logged(server, 'worker died: restarting it')).toMatchObject([{ worker_pid: killed, signal: 'SIGKILL', exit_code: null, restart_delay_ms: RESTART_DELAY_MS_MIN }]);

    // While one worker is down and its replacement starts, the other answers every request.
    const outcomes: { outcome: QuoteOutcome }[] = [];
    const replaced = () => messages(server.lines).filter((line) => line.msg === 'worker listening').length === 3;
    const deadline = Date.now() + 20_000;
    while (!replaced() && Date.now() < deadline) outcomes.push({ outcome: await postQuote(port) });
    expect(replaced()).toBe(true);
    for (let sent = 0; sent < 20; sent += 1) outcomes.push({ outcome: await postQuote(port) });
    expect(outcomes.length).toBeGreaterThan(20);
    expect(failures(outcomes)).toEqual([]);

    const { pids: listeningPids } = await listeningPort(server, 1000, 3);
    const replacement = listeningPids[2]!;
    expect(pids).not.toContain(replacement);
    const slotOfKilled = logged(server, 'worker died: restarting it')[0]!['worker_slot'];
    expect(logged(server, 'worker listening').at(-1)).toMatchObject({ worker_pid: replacement, worker_slot: slotOfKilled });
    // The replacement serves too.
    const answeredBy = () => new Set(messages(server.lines).filter((line) => line.msg === 'request completed').map((line) => line.pid));
    expect(answeredBy().has(replacement)).toBe(true);

    server.child.kill('SIGTERM');
    expect(await withTimeout(server.exited, 10_000, 'the primary to exit')).toBe(0);
  }, 60_000);

  it('on SIGTERM to the primary under load: every worker drains, every request sent before the signal is answered 200, exit 0', async () => {
    const DRAIN = 1500;
    const GRACE = 3000;
    const server = start({ ...BASE_ENV, WORKERS: '2', SHUTDOWN_DRAIN_MS: String(DRAIN), SHUTDOWN_GRACE_MS: String(GRACE) });
    const { port, pids } = await listeningPort(server, 20_000, 2);

    // Four clients, each sending one POST /quote after another (at most 200 each), until told to stop.
    const results: { sentBeforeSignal: boolean; outcome: QuoteOutcome }[] = [];
    let signalledAt = Infinity;
    let stop = false;
    const clients = Array.from({ length: 4 }, async () => {
      for (let sent = 0; sent < 200 && !stop; sent += 1) {
        const sentBeforeSignal = Date.now() < signalledAt;
        results.push({ sentBeforeSignal, outcome: await postQuote(port) });
      }
    });
    await delay(500);

    signalledAt = Date.now();
    server.child.kill('SIGTERM');
    const draining = () => messages(server.lines).filter((line) => line.msg === 'shutting down: not ready, draining before the listener closes');
    await waitFor(() => draining().length === 2, 'both workers to start draining', DRAIN);
    expect(draining().map((line) => line.pid).sort()).toEqual([...pids].sort());
    expect(draining().map((line) => line['signal'])).toEqual(['SIGTERM', 'SIGTERM']);
    expect((await withTimeout(get(port, '/readyz'), 1000, 'GET /readyz during the drain')).status).toBe(503);
    stop = true;
    await withTimeout(Promise.all(clients), 5000, 'the clients to finish');

    const code = await withTimeout(server.exited, DRAIN + GRACE + 5000, 'the primary to exit');
    expect(code).toBe(0);
    const beforeSignal = results.filter((result) => result.sentBeforeSignal);
    expect(beforeSignal.length).toBeGreaterThan(20);
    expect(failures(beforeSignal)).toEqual([]);
    // The drain kept the listener open, so what was sent after the signal was served too.
    expect(failures(results)).toEqual([]);
    expect(logged(server, 'worker exited').map((line) => line['exit_code'])).toEqual([0, 0]);
    expect(logged(server, 'every worker exited')).toMatchObject([{ exit_code: 0, pid: server.child.pid }]);
    expect(logged(server, 'worker died: restarting it')).toEqual([]);
    expect(server.stderr()).toBe('');
  }, 60_000);
});

describe('a worker that dies while the primary shuts down', () => {
  it('is not replaced, and the primary exits 1', async () => {
    const server = start({ ...BASE_ENV, WORKERS: '2', SHUTDOWN_DRAIN_MS: '1500', SHUTDOWN_GRACE_MS: '2000' });
    const { pids } = await listeningPort(server, 20_000, 2);

    server.child.kill('SIGTERM');
    const draining = () => messages(server.lines).filter((line) => line.msg === 'shutting down: not ready, draining before the listener closes');
    await waitFor(() => draining().length === 2, 'both workers to start draining', 5000);
    process.kill(pids[0]!, 'SIGKILL');

    expect(await withTimeout(server.exited, 10_000, 'the primary to exit')).toBe(1);
    expect(logged(server, 'worker exited').map((line) => [line.pid, line['worker_pid'], line['signal'], line['exit_code']])).toEqual(
      expect.arrayContaining([
        [server.child.pid, pids[0], 'SIGKILL', null],
        [server.child.pid, pids[1], null, 0],
      ]),
    );
    expect(logged(server, 'worker died: restarting it')).toEqual([]);
    expect(logged(server, 'every worker exited')).toMatchObject([{ exit_code: 1 }]);
  }, 60_000);
});

describe('a worker that crashes at start', () => {
  /** A port some other process holds, so every worker fails to listen. */
  async function takenPort(): Promise<{ port: number; holder: Server }> {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const address = holder.address();
    if (typeof address !== 'object' || address === null) throw new Error('no port');
    return { port: address.port, holder };
  }

  it('is restarted with a doubling delay, then the primary gives up, stops the others and exits 1', async () => {
    const { port, holder } = await takenPort();
    try {
      const server = start({ ...BASE_ENV, PORT: String(port), WORKERS: '2', LOG_LEVEL: 'info' });
      const code = await withTimeout(server.exited, 45_000, 'the primary to give up');
      expect(code).toBe(1);
      const gaveUp = logged(server, 'worker keeps dying: stopping every worker');
      expect(gaveUp).toMatchObject([{ restarts: RESTARTS_PER_WINDOW_MAX }]);
      const slot = gaveUp[0]!['worker_slot'];
      const delays = logged(server, 'worker died: restarting it')
        .filter((line) => line['worker_slot'] === slot)
        .map((line) => line['restart_delay_ms']);
      expect(delays).toEqual(Array.from({ length: RESTARTS_PER_WINDOW_MAX }, (_, restart) => RESTART_DELAY_MS_MIN * 2 ** restart));
      expect(logged(server, 'every worker exited')).toMatchObject([{ exit_code: 1 }]);
      // Each worker died of the taken port, and said so.
      const crashes = messages(server.lines).filter((line) => line.msg === 'closing after an uncaught error');
      expect(crashes.length).toBeGreaterThanOrEqual(RESTARTS_PER_WINDOW_MAX + 1);
      expect(crashes.map((line) => (line['err'] as { code?: string }).code)).toEqual(crashes.map(() => 'EADDRINUSE'));
    } finally {
      holder.close();
    }
  }, 60_000);
});

describe('the configuration of a cluster', () => {
  it('is read once, by the primary: a bad setting exits 1 before any worker starts', async () => {
    const server = start({ ...BASE_ENV, WORKERS: '2', PORT: 'abc' });
    expect(await withTimeout(server.exited, 10_000, 'the process to exit')).toBe(1);
    expect(server.stderr()).toBe('divy: invalid configuration in the environment: PORT: must be an integer from 0 to 65535\n');
    expect(server.lines).toEqual([]);
  });

  it('a bad WORKERS exits 1 and says what it must be', async () => {
    const server = start({ ...BASE_ENV, WORKERS: '65' });
    expect(await withTimeout(server.exited, 10_000, 'the process to exit')).toBe(1);
    expect(server.stderr()).toBe('divy: invalid configuration in the environment: WORKERS: must be an integer from 1 to 64, or auto (one per available core, at most 64)\n');
  });

  it('WORKERS=1 runs no primary: the process started serves itself', async () => {
    const server = start({ ...BASE_ENV, WORKERS: '1' });
    const { port, pid } = await listeningPort(server);
    expect(pid).toBe(server.child.pid);
    expect(await withTimeout(get(port, '/healthz'), 5000, 'GET /healthz')).toMatchObject({ status: 200 });
    expect(logged(server, 'starting workers')).toEqual([]);
    server.child.kill('SIGTERM');
    expect(await withTimeout(server.exited, 10_000, 'the process to exit')).toBe(0);
  });
});

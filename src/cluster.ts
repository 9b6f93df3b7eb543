/**
 * The cluster primary, run when WORKERS is above 1. It serves nothing itself: it forks one worker
 * per slot, each a whole server on the same port (the primary hands each new connection to one of
 * them), replaces a worker that dies, and on SIGTERM or SIGINT has every worker drain and exit.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';

/** The most workers WORKERS may ask for. */
export const WORKERS_MAX = 64;

/**
 * How long past drain plus grace a shutdown may hang before it is cut: a process whose close never
 * ends even after every connection was destroyed exits 1.
 */
export const SHUTDOWN_HANG_MARGIN_MS = 5000;

/** The first restart of a slot waits this long; each further one within the window, twice as long. */
export const RESTART_DELAY_MS_MIN = 100;
/** Restarts of one slot counted together; a worker that stays up this long starts the count anew. */
export const RESTART_WINDOW_MS = 60_000;
/** A slot restarted this often within the window keeps crashing: the primary stops and exits 1. */
export const RESTARTS_PER_WINDOW_MAX = 5;

export interface ClusterSettings {
  readonly workers: number;
  readonly shutdown_drain_ms: number;
  readonly shutdown_grace_ms: number;
}

/** One place a worker serves from, replaced in place when its worker dies. */
interface Slot {
  readonly index: number;
  worker: Worker | undefined;
  /** Whether the current worker has started listening: one killed before that held no requests. */
  listening: boolean;
  /** When this slot's worker was restarted, within the last window. */
  restarts: number[];
  restartTimer: NodeJS.Timeout | undefined;
}

/** Forks the workers and supervises them until a signal stops them all; then exits. */
export function runPrimary(settings: ClusterSettings, logger: Logger): void {
  const slots: Slot[] = Array.from({ length: settings.workers }, (_, index) => ({ index, worker: undefined, listening: false, restarts: [], restartTimer: undefined }));
  let stopping = false;
  let unclean = false;

  function fork(slot: Slot): void {
    slot.restartTimer = undefined;
    slot.listening = false;
    const worker = cluster.fork();
    slot.worker = worker;
    worker.once('listening', (address) => {
      slot.listening = true;
      logger.info({ worker_slot: slot.index, worker_pid: worker.process.pid, port: address.port }, 'worker listening');
    });
    worker.once('exit', (code, signal) => onExit(slot, worker, code, signal));
  }

  function onExit(slot: Slot, worker: Worker, code: number | null, signal: string | null): void {
    slot.worker = undefined;
    const exit = { worker_slot: slot.index, worker_pid: worker.process.pid, exit_code: code, signal };
    if (stopping) {
      // A worker stopped before it listened held no requests, whatever ended it.
      const clean = code === 0 || (signal === 'SIGTERM' && !slot.listening);
      if (!clean) unclean = true;
      logger[clean ? 'info' : 'error'](exit, 'worker exited');
      exitOnceAllExited();
      return;
    }
    const now = Date.now();
    slot.restarts = slot.restarts.filter((at) => now - at < RESTART_WINDOW_MS);
    if (slot.restarts.length >= RESTARTS_PER_WINDOW_MAX) {
      logger.fatal({ ...exit, restarts: slot.restarts.length, restart_window_ms: RESTART_WINDOW_MS }, 'worker keeps dying: stopping every worker');
      unclean = true;
      stop('worker-crash-loop');
      return;
    }
    const restart_delay_ms = RESTART_DELAY_MS_MIN * 2 ** slot.restarts.length;
    slot.restarts.push(now + restart_delay_ms);
    logger.error({ ...exit, restart_delay_ms }, 'worker died: restarting it');
    slot.restartTimer = setTimeout(() => fork(slot), restart_delay_ms);
  }

  function stop(reason: string): void {
    stopping = true;
    for (const slot of slots) {
      clearTimeout(slot.restartTimer);
      slot.restartTimer = undefined;
      slot.worker?.process.kill('SIGTERM');
    }
    logger.info({ reason, workers: slots.filter((slot) => slot.worker).length }, 'shutting down: every worker drains and exits');
    // Each worker cuts its own hang after drain + grace + margin; this only catches a worker that does not.
    const deadline_ms = settings.shutdown_drain_ms + settings.shutdown_grace_ms + 2 * SHUTDOWN_HANG_MARGIN_MS;
    setTimeout(() => {
      logger.error({ deadline_ms }, 'workers still running past the shutdown deadline: killing them');
      killAll();
    }, deadline_ms).unref();
    exitOnceAllExited();
  }

  function killAll(): void {
    for (const slot of slots) slot.worker?.process.kill('SIGKILL');
    process.exit(1);
  }

  function exitOnceAllExited(): void {
    if (slots.some((slot) => slot.worker)) return;
    logger.info({ exit_code: unclean ? 1 : 0 }, 'every worker exited');
    process.exit(unclean ? 1 : 0);
  }

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (!stopping) return stop(signal);
      // A second signal: the operator wants out now.
      logger.error({ signal }, `second ${signal}: killing every worker`);
      unclean = true;
      killAll();
    });
  }

  logger.info({ workers: settings.workers, primary_pid: process.pid }, 'starting workers');
  for (const slot of slots) fork(slot);
}

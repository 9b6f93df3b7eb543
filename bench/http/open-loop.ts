/**
 * Open-loop load: requests are due on a fixed schedule, whatever the service answers, and each
 * latency is counted from when its request was due, not from when it was sent. A client that
 * waited for answers before sending more (closed loop) would send less while the service is
 * slow and hide the wait of the requests it did not send (coordinated omission).
 *
 * Requests go out over keep-alive connections (raw-pool.ts), at most `max_sockets` at once; a
 * request due while every connection is busy waits for one, and that wait is in its latency.
 */
import { Agent, request as httpRequest } from 'node:http';
import { RawPool } from './raw-pool.js';

/** One phase of the schedule: `rate_per_sec` requests due per second for `seconds`. */
export interface Phase {
  readonly rate_per_sec: number;
  readonly seconds: number;
}

export interface OutgoingRequest {
  readonly kind: string;
  readonly path: string;
  readonly body: Buffer;
}

/** One request: when it was due, sent and answered (ms since the run started), and its status (0: no answer). */
export interface Sample {
  readonly kind: string;
  readonly due_ms: number;
  /** Later than due_ms when this generator fell behind its schedule. */
  readonly sent_ms: number;
  readonly done_ms: number;
  readonly status: number;
}

export interface OpenLoopOptions {
  readonly phases: readonly Phase[];
  /** The n-th request of the run. */
  readonly next: (index: number) => OutgoingRequest;
  readonly max_sockets: number;
  /** Connections opened before the first request is due (keep-alive clients hold theirs open); none by default. */
  readonly preconnect?: number;
  readonly timeout_ms?: number;
  /** Sees each answer's status and headers, as it comes. */
  readonly inspect?: (kind: string, status: number, headers: Readonly<Record<string, string>>) => void;
}

const TICK_MS = 1;

export async function openLoop(origin: string, options: OpenLoopOptions): Promise<Sample[]> {
  const { hostname, port } = new URL(origin);
  const pool = new RawPool(hostname, Number(port), options.max_sockets);
  const bytesOf = new WeakMap<Buffer, Buffer>();
  const samples: Sample[] = [];
  const pending = new Set<Promise<void>>();
  await pool.preconnect(options.preconnect ?? 0);
  const started = performance.now();
  const dueTimes = schedule(options.phases);
  const inspect = options.inspect;
  let index = 0;
  try {
    while (index < dueTimes.length) {
      const now = performance.now() - started;
      while (index < dueTimes.length && dueTimes[index]! <= now) {
        const due_ms = dueTimes[index]!;
        const sent_ms = performance.now() - started;
        const outgoing = options.next(index);
        let bytes = bytesOf.get(outgoing.body);
        if (bytes === undefined) bytesOf.set(outgoing.body, (bytes = RawPool.requestBytes(hostname, outgoing.path, outgoing.body)));
        const sent = pool.send(bytes, inspect !== undefined).then((answer) => {
          if (answer.status === 0) countNoAnswer(answer.reason ?? 'unknown');
          inspect?.(outgoing.kind, answer.status, answer.headers);
          samples.push({ kind: outgoing.kind, due_ms, sent_ms, done_ms: performance.now() - started, status: answer.status });
          pending.delete(sent);
        });
        pending.add(sent);
        index += 1;
      }
      await new Promise((resolve) => setTimeout(resolve, TICK_MS));
    }
    // Requests still unanswered after timeout_ms past the schedule get no answer.
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, options.timeout_ms ?? 30_000)));
    await Promise.race([Promise.all(pending), deadline]);
    clearTimeout(timer);
  } finally {
    pool.destroy();
  }
  await Promise.all(pending);
  return samples;
}

/** Due times in milliseconds from the start, phase after phase. */
function schedule(phases: readonly Phase[]): number[] {
  const due: number[] = [];
  let phaseStart = 0;
  for (const { rate_per_sec, seconds } of phases) {
    const count = Math.round(rate_per_sec * seconds);
    for (let step = 0; step < count; step += 1) due.push(phaseStart + (step * 1000) / rate_per_sec);
    phaseStart += seconds * 1000;
  }
  return due;
}

/** Why requests got no answer, by error code, over the whole process. */
export const noAnswerReasons = new Map<string, number>();

function countNoAnswer(reason: string): void {
  noAnswerReasons.set(reason, (noAnswerReasons.get(reason) ?? 0) + 1);
}

function noAnswer(error: NodeJS.ErrnoException): number {
  countNoAnswer(error.code ?? error.message);
  return 0;
}

/** Posts one body with node:http (the back-to-back client's rate needs no more); resolves with the status, or 0 if no answer came. */
function send(origin: string, agent: Agent, outgoing: OutgoingRequest, timeout_ms: number): Promise<number> {
  return new Promise((resolve) => {
    const request = httpRequest(
      new URL(outgoing.path, origin),
      { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': outgoing.body.length }, timeout: timeout_ms },
      (response) => {
        response.on('data', () => {});
        response.on('end', () => resolve(response.statusCode ?? 0));
        response.on('error', (error) => resolve(noAnswer(error)));
      },
    );
    request.on('timeout', () => request.destroy(new Error('timed out')));
    request.on('error', (error) => resolve(noAnswer(error)));
    request.end(outgoing.body);
  });
}

/** Posts bodies one after another, each when the last is answered, until `until()` says stop. */
export async function backToBack(origin: string, next: (index: number) => OutgoingRequest, until: () => boolean): Promise<Sample[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const samples: Sample[] = [];
  const started = performance.now();
  try {
    for (let index = 0; !until(); index += 1) {
      const outgoing = next(index);
      const due_ms = performance.now() - started;
      const status = await send(origin, agent, outgoing, 60_000);
      samples.push({ kind: outgoing.kind, due_ms, sent_ms: due_ms, done_ms: performance.now() - started, status });
    }
  } finally {
    agent.destroy();
  }
  return samples;
}

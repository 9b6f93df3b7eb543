/**
 * Closed-loop load with autocannon: `connections` clients, each sending its next request as soon
 * as the last is answered, for `seconds`. Bodies are taken from a ring in turn, so consecutive
 * requests price different jobs. Latencies are taken from autocannon's response event, whose
 * times are fractional milliseconds (its own histogram keeps whole milliseconds, too coarse for a
 * small request).
 */
import autocannon from 'autocannon';
import { entriesOf, type BodyRing, type RingEntry } from './bodies.js';
import { loadFigure, type LoadFigure } from './stats.js';

export interface ClosedLoopOptions {
  readonly connections: number;
  readonly seconds: number;
}

/** Sends the ring's bodies (or a mix of paths and bodies) in turn. */
export async function closedLoop(origin: string, ring: BodyRing | readonly RingEntry[], options: ClosedLoopOptions): Promise<LoadFigure> {
  const entries = 'bodies' in ring ? entriesOf(ring) : ring;
  let turn = 0;
  const latencies: number[] = [];
  let non2xx = 0;
  const instance = autocannon({
    url: origin,
    connections: options.connections,
    duration: options.seconds,
    timeout: 60,
    requests: [
      {
        method: 'POST',
        path: entries[0]!.path,
        headers: { 'content-type': 'application/json' },
        setupRequest: (request) => {
          request.path = entries[turn]!.path;
          request.body = entries[turn]!.body;
          turn = turn + 1 === entries.length ? 0 : turn + 1;
          return request;
        },
      },
    ],
  });
  instance.on('response', (_client: unknown, status: number, _bytes: number, responseTimeMs: number) => {
    latencies.push(responseTimeMs);
    if (status < 200 || status > 299) non2xx += 1;
  });
  const result = await instance;
  return loadFigure(latencies, result.duration, non2xx, result.errors);
}

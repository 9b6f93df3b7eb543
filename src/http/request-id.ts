import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const REQUEST_ID_HEADER = 'x-request-id';

/** Ids a caller may pass: short and printable, so they are safe in logs, headers and JSON strings. */
const CALLER_REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/** Honours a well-formed incoming x-request-id, else makes a new one. */
export function requestIdOf(request: IncomingMessage): string {
  const incoming = request.headers[REQUEST_ID_HEADER];
  if (typeof incoming === 'string' && CALLER_REQUEST_ID.test(incoming)) return incoming;
  return randomUUID();
}

/**
 * requestIdOf, read from the raw header list: the same id for every request, without building
 * the request's header object, which a request refused before Fastify never needs. A repeated
 * header is joined with ", " in that object, which no caller id matches, so it gets a new id here too.
 */
export function requestIdOfRaw(request: IncomingMessage): string {
  const raw = request.rawHeaders;
  let incoming: string | undefined;
  for (let index = 0; index < raw.length; index += 2) {
    const name = raw[index]!;
    if (name.length !== REQUEST_ID_HEADER.length || name.toLowerCase() !== REQUEST_ID_HEADER) continue;
    if (incoming !== undefined) return randomUUID();
    incoming = raw[index + 1]!;
  }
  return incoming !== undefined && CALLER_REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

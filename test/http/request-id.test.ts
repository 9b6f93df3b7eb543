/** requestIdOfRaw (read from the raw header list, for refusals before Fastify) keeps the id requestIdOf keeps, and makes a new one where it does. */
import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { requestIdOf, requestIdOfRaw } from '../../src/http/request-id.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** A request whose header object Node built from `raw`, as its parser does. */
function requestWith(raw: string[]): IncomingMessage {
  const request = new IncomingMessage(new Socket());
  (request as unknown as { _addHeaderLines(headers: string[], count: number): void })._addHeaderLines(raw, raw.length);
  return request;
}

const headerName = fc.constantFrom('x-request-id', 'X-Request-Id', 'X-REQUEST-ID', 'host', 'content-type', 'x-request-ids', 'x-request');
const headerValue = fc.oneof(fc.stringMatching(/^[A-Za-z0-9._:@/+=-]{1,130}$/), fc.string({ maxLength: 20 }), fc.constantFrom('abc', 'a b', 'id"quote', ''));

describe('requestIdOfRaw', () => {
  it('agrees with requestIdOf on every header list: the same caller id, or a new UUID for both', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(headerName, headerValue), { maxLength: 6 }), (pairs) => {
        const request = requestWith(pairs.flat());
        const fromHeaders = requestIdOf(request);
        const fromRaw = requestIdOfRaw(request);
        if (UUID.test(fromHeaders) && !pairs.some(([, value]) => value === fromHeaders)) expect(fromRaw).toMatch(UUID);
        else expect(fromRaw).toBe(fromHeaders);
      }),
    );
  });

  it('keeps a well-formed caller id, and makes a new one for a repeated or malformed header', () => {
    expect(requestIdOfRaw(requestWith(['Host', 'h', 'X-Request-Id', 'job-7:delta/3']))).toBe('job-7:delta/3');
    expect(requestIdOfRaw(requestWith(['x-request-id', 'a', 'x-request-id', 'b']))).toMatch(UUID);
    expect(requestIdOfRaw(requestWith(['x-request-id', 'has space']))).toMatch(UUID);
    expect(requestIdOfRaw(requestWith(['x-request-id', 'x'.repeat(129)]))).toMatch(UUID);
    expect(requestIdOfRaw(requestWith([]))).toMatch(UUID);
  });
});

/**
 * JSON bodies parsed from the bytes as received, and those bytes kept on the request: a signed
 * answer names the digest of exactly what the caller sent, not of a re-serialization.
 */
import { isUtf8 } from 'node:buffer';
import type { FastifyInstance } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request body exactly as received; undefined when the request had no JSON body. */
    received_body: Buffer | undefined;
  }
}

/**
 * A body that is not UTF-8. JSON exchanged between systems must be UTF-8 (RFC 8259, section
 * 8.1); decoding it anyway would turn each bad byte into U+FFFD, so a worker id could change
 * between what the caller sent, what the ledger books and the digest a signature names.
 */
export class InvalidEncodingError extends Error {
  readonly statusCode = 400;
  constructor() {
    super('The request body is not valid UTF-8.');
    this.name = 'InvalidEncodingError';
  }
}

/**
 * A body holding a key that could rewrite object prototypes wherever it is merged or copied:
 * `__proto__`, or `constructor` holding `prototype` (the keys Fastify's parser forbids).
 */
export class ForbiddenKeyError extends Error {
  readonly statusCode = 400;
  /** The JSON Pointer of the forbidden key. */
  readonly path: string;
  constructor(path: string) {
    super(`The request body holds the forbidden key ${path}.`);
    this.name = 'ForbiddenKeyError';
    this.path = path;
  }
}

/**
 * Replaces Fastify's JSON parser with one that reads the body as bytes, keeps them, refuses
 * bytes that are not UTF-8, and hands their text to Fastify's own parser: malformed JSON and an
 * empty body fail with the same errors as before, and so with the same problem bodies. Fastify's
 * parser would refuse a prototype key without saying where it is; it is told to keep such keys
 * (JSON.parse makes them plain own properties, never prototypes) and they are refused here, by path.
 */
export function parseJsonKeepingReceivedBody(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('ignore', 'ignore');
  // Declared up front, so that every request object has the same shape.
  app.decorateRequest('received_body', undefined);
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body: Buffer, done) => {
    request.received_body = body;
    if (!isUtf8(body)) {
      done(new InvalidEncodingError(), undefined);
      return;
    }
    const text = body.toString('utf8');
    parseJson(request, text, (error, value) => {
      if (error) {
        done(error, undefined);
        return;
      }
      // Only a body that spells such a key, plainly or in \u escapes, is walked.
      const forbidden = MAY_HOLD_FORBIDDEN_KEY.test(text) ? forbiddenKeyPath(value, '') : undefined;
      if (forbidden === undefined) done(null, value);
      else done(new ForbiddenKeyError(forbidden), undefined);
    });
  });
}

const MAY_HOLD_FORBIDDEN_KEY = /__proto__|constructor|\\u/;

/**
 * The JSON Pointer of the first forbidden key in a parsed body, depth first. Iterative, so a
 * deeply nested body cannot overflow the stack here (JSON.parse has already built it).
 */
function forbiddenKeyPath(value: unknown, root: string): string | undefined {
  const pending: [unknown, string][] = [[value, root]];
  while (pending.length > 0) {
    const [node, path] = pending.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (Array.isArray(node)) {
      for (let index = node.length - 1; index >= 0; index -= 1) pending.push([node[index], `${path}/${index}`]);
      continue;
    }
    const keys = Object.keys(node);
    for (const key of keys) {
      if (key === '__proto__') return `${path}/__proto__`;
      const child = (node as Record<string, unknown>)[key];
      if (key === 'constructor' && child !== null && typeof child === 'object' && Object.hasOwn(child, 'prototype')) {
        return `${path}/constructor/prototype`;
      }
    }
    for (let index = keys.length - 1; index >= 0; index -= 1) {
      const key = keys[index]!;
      pending.push([(node as Record<string, unknown>)[key], `${path}/${escapePointer(key)}`]);
    }
  }
  return undefined;
}

function escapePointer(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1');
}

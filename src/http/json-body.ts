/**
 * JSON bodies parsed from the bytes as received, and those bytes kept on the request: a signed
 * answer names the digest of exactly what the caller sent, not of a re-serialization.
 */
import type { FastifyInstance } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request body exactly as received; undefined when the request had no JSON body. */
    received_body: Buffer | undefined;
  }
}

/**
 * Replaces Fastify's JSON parser with one that reads the body as bytes, keeps them, and hands
 * their text to Fastify's own parser: malformed JSON, an empty body and prototype poisoning
 * fail with the same errors as before, and so with the same problem bodies.
 */
export function parseJsonKeepingReceivedBody(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  // Declared up front, so that every request object has the same shape.
  app.decorateRequest('received_body', undefined);
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body: Buffer, done) => {
    request.received_body = body;
    // Decoded as Fastify decodes a body parsed as a string.
    parseJson(request, body.toString('utf8'), done);
  });
}

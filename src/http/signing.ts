/**
 * Signed answers (RFC 9421 HTTP Message Signatures), for ledgers that must not take a
 * coordinator's word for what Divy answered. Every 200 answer of a route tagged 'accounting'
 * carries a signature over its status, content type, body digest (RFC 9530 Content-Digest) and
 * the digest of the request body exactly as received, so a ledger holding both bodies can check
 * that this answer came from Divy for that request. No `created` time: Ed25519 signatures are
 * deterministic, so the same request always gets byte-identical headers and body.
 */
import { createHash, type KeyObject } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { createSigner, httpbis } from 'http-message-signatures';
import { signingKeyIdOf } from './signing-key.js';

/** Routes with this tag sign their 200 answers: the accounting endpoints, whoever adds them. */
export const SIGNED_ROUTE_TAG = 'accounting';
/** The signature's label in Signature-Input and Signature. */
export const SIGNATURE_LABEL = 'divy';
/** The answer's header that holds the SHA-256 of the request body as received. */
export const REQUEST_DIGEST_HEADER = 'divy-request-digest';
/** What every signature covers, in this order. */
export const SIGNED_COMPONENTS = ['@status', 'content-type', 'content-digest', REQUEST_DIGEST_HEADER] as const;

const NO_BODY = Buffer.alloc(0);

/** A digest field value as RFC 9530 writes it: `sha-256=:<base64>:`. Text counts as its UTF-8 bytes. */
export function sha256DigestOf(bytes: string | Buffer): string {
  return `sha-256=:${createHash('sha256').update(bytes).digest('base64')}:`;
}

/**
 * Signs the 200 answers of every route tagged 'accounting' that is declared after this call.
 * Which routes sign is decided once, as each is declared; other routes carry no signing hook.
 */
export function signAccountingAnswers(app: FastifyInstance, signing_key: KeyObject): void {
  const key = createSigner(signing_key, 'ed25519', signingKeyIdOf(signing_key));

  async function signAnswer(request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> {
    if (reply.statusCode !== 200) return payload;
    // The serializer turns every answer of these routes into text; anything else is a bug.
    if (typeof payload !== 'string' && !Buffer.isBuffer(payload)) throw new Error(`cannot sign an answer body of type ${typeof payload}`);
    const contentType = reply.getHeader('content-type');
    if (typeof contentType !== 'string') throw new Error('cannot sign an answer without a content type');
    const covered: Record<string, string> = {
      'content-type': contentType,
      'content-digest': sha256DigestOf(payload),
      [REQUEST_DIGEST_HEADER]: sha256DigestOf(request.received_body ?? NO_BODY),
    };
    const signed = await httpbis.signMessage(
      { key, name: SIGNATURE_LABEL, fields: [...SIGNED_COMPONENTS], params: ['keyid', 'alg'] },
      { status: reply.statusCode, headers: covered },
    );
    // The covered headers as signed, and Signature-Input and Signature beside them.
    reply.headers(signed.headers);
    return payload;
  }

  app.addHook('onRoute', (route: RouteOptions) => {
    if (!route.schema?.tags?.includes(SIGNED_ROUTE_TAG)) return;
    const hooks = route.onSend === undefined ? [] : Array.isArray(route.onSend) ? route.onSend : [route.onSend];
    route.onSend = [...hooks, signAnswer];
  });
}

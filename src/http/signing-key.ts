/** The public half of the signing key as a JSON Web Key (RFC 8037), named by its RFC 7638 thumbprint. */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';

export interface PublicSigningJwk {
  readonly kty: 'OKP';
  readonly crv: 'Ed25519';
  /** The public key, base64url. */
  readonly x: string;
  /** The key id: its thumbprint, as in the `keyid` of every signature. */
  readonly kid: string;
  readonly alg: 'EdDSA';
  readonly use: 'sig';
}

/** The public JWK of an Ed25519 key (private or public). */
export function publicJwkOf(key: KeyObject): PublicSigningJwk {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  const { kty, crv, x } = publicKey.export({ format: 'jwk' });
  if (kty !== 'OKP' || crv !== 'Ed25519' || typeof x !== 'string') throw new Error(`not an Ed25519 key: ${key.asymmetricKeyType ?? key.type}`);
  return { kty, crv, x, kid: thumbprintOf(x), alg: 'EdDSA', use: 'sig' };
}

/** The key id signatures name: RFC 7638's thumbprint of the key. */
export function signingKeyIdOf(key: KeyObject): string {
  return publicJwkOf(key).kid;
}

/**
 * RFC 7638: the base64url SHA-256 of the key's required members (for OKP: crv, kty, x), in
 * lexicographic order and without whitespace. x is base64url, so JSON.stringify escapes nothing.
 */
function thumbprintOf(x: string): string {
  return createHash('sha256').update(JSON.stringify({ crv: 'Ed25519', kty: 'OKP', x })).digest('base64url');
}

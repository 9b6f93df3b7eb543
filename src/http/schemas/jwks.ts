/** The schema of GET /.well-known/jwks.json: the public key that signs answers. */
import { z } from 'zod';
import { described, type SchemaDocs } from './docs.js';

/** The key of RFC 8037, Appendix A, with its RFC 7638 thumbprint: an example no deployment signs with. */
export const JWKS_EXAMPLE_KEY = {
  kty: 'OKP',
  crv: 'Ed25519',
  x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo',
  kid: 'kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k',
  alg: 'EdDSA',
  use: 'sig',
} as const;

export function jwksSchemas(docs: SchemaDocs) {
  const signingKey = described(
    docs,
    z.object({
      kty: described(docs, z.literal('OKP'), { description: 'Key type: an octet key pair (RFC 8037).' }),
      crv: described(docs, z.literal('Ed25519'), { description: 'The curve: answers are signed with Ed25519.' }),
      x: described(docs, z.string(), { description: 'The public key, base64url-encoded.', example: JWKS_EXAMPLE_KEY.x }),
      kid: described(docs, z.string(), {
        description: 'The key id: the RFC 7638 thumbprint of the key, and the keyid of every Signature-Input it signs.',
        example: JWKS_EXAMPLE_KEY.kid,
      }),
      alg: described(docs, z.literal('EdDSA'), { description: 'The JOSE algorithm; Signature-Input names it alg="ed25519", as RFC 9421 does.' }),
      use: described(docs, z.literal('sig'), { description: 'The key signs.' }),
    }),
    { id: 'SigningKey', description: 'The public Ed25519 key that signs answers, as a JSON Web Key.' },
  );
  const keySet = described(
    docs,
    z.object({ keys: described(docs, z.array(signingKey), { description: 'The keys that sign answers: one, the configured SIGNING_KEY_FILE.' }) }),
    {
      id: 'JsonWebKeySet',
      description: 'The key that verifies the signed answers of the accounting endpoints (RFC 7517 JWK Set).',
      examples: [{ keys: [JWKS_EXAMPLE_KEY] }],
    },
  );
  // The route's own words for its 200 answer: a bare component would read "Default Response".
  return { keySet, keySetResponse: described(docs, keySet, { description: 'The public key that signs answers, with its kid.' }) };
}

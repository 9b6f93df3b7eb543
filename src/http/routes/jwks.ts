import type { KeyObject } from 'node:crypto';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { PROBLEM_TYPES, sendProblem, type ProblemFields } from '../problem.js';
import { exampleProblem } from '../schemas/problem-examples.js';
import { publicJwkOf } from '../signing-key.js';
import type { RouteOptions } from './options.js';

export interface JwksRouteOptions extends RouteOptions {
  /** The key that signs answers; without one, the route answers 404. */
  readonly signing_key: KeyObject | undefined;
}

export const JWKS_PATH = '/.well-known/jwks.json';

const NO_SIGNING_KEY: ProblemFields = {
  type: PROBLEM_TYPES.notFound,
  title: 'Not Found',
  status: 404,
  detail: 'This service signs no answers, so it publishes no key: it runs without SIGNING_KEY_FILE.',
};

/**
 * The public key that signs answers. The route is there with or without a key, so that the
 * documentation is the same for every deployment; without a key it answers a 404 problem that
 * says why.
 */
export const jwksRoutes: FastifyPluginAsyncZod<JwksRouteOptions> = async (app, { schemas, signing_key }) => {
  const { jwks, problems } = schemas;
  const keySet = signing_key === undefined ? undefined : { keys: [publicJwkOf(signing_key)] };

  app.get(
    JWKS_PATH,
    {
      schema: {
        tags: ['operations'],
        summary: 'The public key that signs answers (JWK Set)',
        description:
          'With SIGNING_KEY_FILE set, every 200 answer of the accounting endpoints carries an RFC 9421 signature (Signature-Input and Signature, label divy) over @status, content-type, content-digest and divy-request-digest, made with this key; its kid is the keyid of the signature. Without a key the service signs nothing and this route answers 404.',
        response: {
          200: jwks.keySetResponse,
          404: problems.response('The service signs no answers: no SIGNING_KEY_FILE is configured.', exampleProblem(NO_SIGNING_KEY)),
        },
      },
    },
    async (request, reply) => {
      if (keySet !== undefined) return keySet;
      return sendProblem(request, reply, NO_SIGNING_KEY);
    },
  );
};

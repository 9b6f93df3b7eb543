/**
 * An optional cap on requests per minute for each caller: each token when auth is on (so callers
 * behind one proxy do not share a budget), else each client IP. Over the cap the answer is a 429
 * problem with Retry-After.
 */
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import { accessOf } from './auth.js';

/** Thrown by the rate limiter; the error handler turns it into the 429 problem. */
export class RateLimitedError extends Error {
  override readonly name = 'RateLimitedError';
  readonly statusCode = 429;
  constructor(
    readonly per_minute: number,
    readonly retry_after_seconds: number,
  ) {
    super(`rate limit of ${per_minute} requests per minute exceeded`);
  }
}

/** Registers the limiter; it covers only the routes registered after it, so call it before them. */
export async function limitRequestRate(app: FastifyInstance, perMinute: number): Promise<void> {
  await app.register(rateLimit, {
    max: perMinute,
    timeWindow: 60_000,
    // The digest of the caller's token (set by the auth hook, which runs first), never the token.
    keyGenerator: (request) => (request.divyCaller === undefined ? `ip:${request.ip}` : `token:${request.divyCaller.key}`),
    // Probes of liveness and readiness must not be refused for being frequent.
    allowList: (request) => accessOf(request.routeOptions.url) === 'open',
    errorResponseBuilder: (_request, context) => new RateLimitedError(perMinute, Math.ceil(context.ttl / 1000)),
  });
}

/**
 * Who may call what: bearer tokens, each granted one role, checked against one table keyed by
 * route. Tokens are held and compared only as SHA-256 digests, in constant time, and never logged.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PROBLEM_TYPES, sendProblem, type ProblemFields } from './problem.js';

export const ROLES = ['coordinator', 'wallet', 'operator'] as const;
export type Role = (typeof ROLES)[number];

/** One configured token: its role and the SHA-256 digest of the token (the token itself is not kept). */
export interface TokenGrant {
  readonly role: Role;
  readonly digest: Buffer;
}

export const AUTH_REALM = 'divy';
export const WWW_AUTHENTICATE = `Bearer realm="${AUTH_REALM}"`;

const OPEN = 'open';
const COORDINATOR: readonly Role[] = ['coordinator', 'operator'];
const WALLET: readonly Role[] = ['wallet', 'operator'];
const OPERATOR: readonly Role[] = ['operator'];

/**
 * The one table of who may call what, keyed by route as Fastify declares it (`/policy/:version`);
 * a key ending in `/*` covers every route under it. Operators may call everything. A route missing
 * from the table is for operators only, so a new route is never open by accident.
 */
export const ROUTE_ACCESS: Readonly<Record<string, typeof OPEN | readonly Role[]>> = {
  '/healthz': OPEN,
  '/readyz': OPEN,
  '/.well-known/jwks.json': OPEN,
  '/realtime-delta': COORDINATOR,
  '/realtime-delta/batch': COORDINATOR,
  '/contribution': COORDINATOR,
  '/quote': WALLET,
  '/settle': WALLET,
  '/docs': OPERATOR,
  '/docs/*': OPERATOR,
  '/policy': OPERATOR,
  '/policy/:version': OPERATOR,
  '/metrics': OPERATOR,
  // The console's page and files hold no data and must load without a token, so that the page can
  // ask for one; every call the page then makes (its examples included) needs an operator token.
  '/console': OPEN,
  '/console/static/*': OPEN,
  '/console/examples': OPERATOR,
};

/** Who may call a route; `undefined` (no route matched, a 404) lets any known token through. */
export function accessOf(route: string | undefined): typeof OPEN | readonly Role[] | undefined {
  if (route === undefined) return undefined;
  const exact = ROUTE_ACCESS[route];
  if (exact !== undefined) return exact;
  const subtree = Object.keys(ROUTE_ACCESS).find((key) => key.endsWith('/*') && route.startsWith(key.slice(0, -1)));
  return subtree === undefined ? OPERATOR : ROUTE_ACCESS[subtree];
}

export function digestOf(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/**
 * The grant a presented token matches, if any. Both sides are SHA-256 digests of the same length,
 * compared with timingSafeEqual against every grant without stopping early, so the time taken
 * tells nothing about how much of a token was right, nor which grant matched.
 */
export function grantOf(grants: readonly TokenGrant[], presented: string): TokenGrant | undefined {
  const digest = digestOf(presented);
  let found: TokenGrant | undefined;
  for (const grant of grants) {
    if (timingSafeEqual(grant.digest, digest) && found === undefined) found = grant;
  }
  return found;
}

/** The token of an `Authorization: Bearer <token>` header; undefined for any other header. */
export function bearerTokenOf(header: string | undefined): string | undefined {
  const match = /^Bearer +(\S+) *$/i.exec(header ?? '');
  return match?.[1];
}

/** What the auth hook learned about a request, for the rate limit's key. */
export interface Caller {
  readonly role: Role;
  /** The token's digest in hex: a key that identifies the token without holding it. */
  readonly key: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    divyCaller: Caller | undefined;
  }
}

/** Refuses every request the table does not let through: 401 without a known token, 403 for the wrong role. */
export function requireBearerTokens(app: FastifyInstance, grants: readonly TokenGrant[]): void {
  app.decorateRequest('divyCaller', undefined);
  // A callback hook: an async one costs a promise on every request. A refused request is answered
  // here, and done() is then not called.
  app.addHook('onRequest', (request, reply, done) => {
    const access = accessOf(request.routeOptions.url);
    if (access === OPEN) return done();
    const token = bearerTokenOf(request.headers.authorization);
    const grant = token === undefined ? undefined : grantOf(grants, token);
    if (grant === undefined) return void unauthorized(request, reply, token === undefined);
    request.divyCaller = { role: grant.role, key: grant.digest.toString('hex') };
    if (access !== undefined && !access.includes(grant.role)) return void forbidden(request, reply, grant.role);
    done();
  });
}

function unauthorized(request: FastifyRequest, reply: FastifyReply, missing: boolean): FastifyReply {
  reply.header('www-authenticate', WWW_AUTHENTICATE);
  return sendProblem(request, reply, unauthorizedProblem(missing));
}

function forbidden(request: FastifyRequest, reply: FastifyReply, role: Role): FastifyReply {
  return sendProblem(request, reply, forbiddenProblem(role, request.method, request.routeOptions.url ?? ''));
}

/** The 401 of a request without a token (`missing`), or with one the service does not know. */
export function unauthorizedProblem(missing: boolean): ProblemFields {
  return {
    type: PROBLEM_TYPES.unauthorized,
    title: 'Unauthorized',
    status: 401,
    detail: missing ? 'This endpoint needs an Authorization: Bearer <token> header.' : 'The bearer token is not one this service knows.',
  };
}

/** The 403 of a known token whose role may not call `method route`. */
export function forbiddenProblem(role: Role, method: string, route: string): ProblemFields {
  return { type: PROBLEM_TYPES.forbidden, title: 'Forbidden', status: 403, detail: `A ${role} token may not call ${method} ${route}.` };
}

/** Said once at start, so that a deployment that forgot its tokens is not silently open. */
export function logAuthMode(logger: FastifyBaseLogger, grants: readonly TokenGrant[] | undefined): void {
  if (grants === undefined) {
    logger.warn('authentication is off: AUTH_TOKENS and AUTH_TOKENS_FILE are unset, so every endpoint is open to anyone who can reach it');
    return;
  }
  const roles = Object.fromEntries(ROLES.map((role) => [role, grants.filter((grant) => grant.role === role).length]));
  logger.info({ tokens_per_role: roles }, 'authentication is on: endpoints need a bearer token');
}

/**
 * Parses `role:token` pairs: AUTH_TOKENS separates them by commas, AUTH_TOKENS_FILE by lines (where
 * blank lines and `#` comments are skipped). Returns the grants, or every problem found. Messages
 * name the variable and the entry, never a token, nor a role that is not one (it might be a token
 * written without its role).
 */
export function parseTokenPairs(text: string, source: 'AUTH_TOKENS' | 'AUTH_TOKENS_FILE', origin: string): { grants: TokenGrant[]; problems: string[] } {
  const entries = source === 'AUTH_TOKENS' ? text.split(',') : text.split(/\r?\n/);
  const where = source === 'AUTH_TOKENS' ? 'entry' : 'line';
  const problems: string[] = [];
  const grants: TokenGrant[] = [];
  const seen = new Map<string, number>();
  entries.forEach((raw, index) => {
    const entry = raw.trim();
    const at = `${origin} ${where} ${index + 1}`;
    if (source === 'AUTH_TOKENS_FILE' && (entry === '' || entry.startsWith('#'))) return;
    const colon = entry.indexOf(':');
    if (colon < 0) return problems.push(`${at}: is not role:token`);
    const role = entry.slice(0, colon).trim();
    const token = entry.slice(colon + 1).trim();
    if (!(ROLES as readonly string[]).includes(role)) return problems.push(`${at}: the role is not one of ${ROLES.join(', ')}`);
    if (token === '') return problems.push(`${at} (${role}): the token is empty`);
    if (!/^[\x21-\x7e]+$/.test(token)) return problems.push(`${at} (${role}): the token holds characters a bearer token cannot carry (only visible ASCII)`);
    const digest = digestOf(token);
    const earlier = seen.get(digest.toString('hex'));
    if (earlier !== undefined) return problems.push(`${at} (${role}): the same token as ${where} ${earlier}`);
    seen.set(digest.toString('hex'), index + 1);
    grants.push({ role: role as Role, digest });
  });
  if (problems.length === 0 && grants.length === 0) problems.push(`${origin}: lists no role:token pair`);
  return { grants, problems };
}

/** Who may call what: bearer tokens with roles, the rate limit, and security headers. */
import SwaggerParser from '@apidevtools/swagger-parser';
import type * as NodeCrypto from 'node:crypto';
import { captureLogLines } from '../support/log-lines.js';
import type { LightMyRequestResponse } from 'fastify';
import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { accessOf, bearerTokenOf, digestOf, grantOf, logAuthMode, parseTokenPairs, ROUTE_ACCESS, type TokenGrant } from '../../src/http/auth.js';
import {
  CONTRIBUTION_EXAMPLE,
  QUOTE_EXAMPLE,
  REALTIME_DELTA_BATCH_EXAMPLE,
  REALTIME_DELTA_EXAMPLE,
  SETTLE_EXAMPLE,
} from '../../src/http/schemas/examples.js';
import { expectExactProblem, ID_HEADER, REQUEST_ID, useApp } from '../support/http.js';
import { useTempDir } from '../support/temp-dir.js';

// Wraps the real timingSafeEqual, to see that the token check goes through it.
vi.mock('node:crypto', async (importOriginal) => {
  const original = await importOriginal<typeof NodeCrypto>();
  return { ...original, timingSafeEqual: vi.fn(original.timingSafeEqual) };
});
const crypto = await import('node:crypto');

const TOKENS = {
  coordinator: 'coord-secret-token-1',
  wallet: 'wallet-secret-token-2',
  operator: 'operator-secret-token-3',
} as const;
type RoleName = keyof typeof TOKENS;
const AUTH_TOKENS = `coordinator:${TOKENS.coordinator},wallet:${TOKENS.wallet},operator:${TOKENS.operator}`;

function grants(): TokenGrant[] {
  const { grants: parsed, problems } = parseTokenPairs(AUTH_TOKENS, 'AUTH_TOKENS', 'AUTH_TOKENS');
  expect(problems).toEqual([]);
  return parsed;
}

interface Call {
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly body?: unknown;
  /** The roles that get a 200; every other known token gets a 403. */
  readonly roles: readonly RoleName[];
}

const COORDINATOR: readonly RoleName[] = ['coordinator', 'operator'];
const WALLET: readonly RoleName[] = ['wallet', 'operator'];
const OPERATOR: readonly RoleName[] = ['operator'];

const CALLS: readonly Call[] = [
  { method: 'POST', url: '/realtime-delta', body: REALTIME_DELTA_EXAMPLE, roles: COORDINATOR },
  { method: 'POST', url: '/realtime-delta/batch', body: REALTIME_DELTA_BATCH_EXAMPLE, roles: COORDINATOR },
  { method: 'POST', url: '/contribution', body: CONTRIBUTION_EXAMPLE, roles: COORDINATOR },
  { method: 'POST', url: '/quote', body: QUOTE_EXAMPLE, roles: WALLET },
  { method: 'POST', url: '/settle', body: SETTLE_EXAMPLE, roles: WALLET },
  { method: 'GET', url: '/docs', roles: OPERATOR },
  { method: 'GET', url: '/docs/json', roles: OPERATOR },
  { method: 'GET', url: '/docs/static/swagger-initializer.js', roles: OPERATOR },
  { method: 'GET', url: '/policy', roles: OPERATOR },
  { method: 'GET', url: '/policy/divy-credit-1', roles: OPERATOR },
  { method: 'GET', url: '/console/examples', roles: OPERATOR },
];

// The detail names the route as declared; Swagger UI declares each of its assets as a route of its own.
const ROUTE_OF: Record<string, string> = { '/policy/divy-credit-1': '/policy/:version' };

function call(app: ReturnType<ReturnType<typeof useApp>>, { method, url, body }: Call, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return app.inject({
    method,
    url,
    headers: { ...ID_HEADER, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  });
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

const MISSING_TOKEN = {
  type: 'urn:divy:problem:unauthorized',
  title: 'Unauthorized',
  status: 401,
  detail: 'This endpoint needs an Authorization: Bearer <token> header.',
  request_id: REQUEST_ID,
};
const UNKNOWN_TOKEN = { ...MISSING_TOKEN, detail: 'The bearer token is not one this service knows.' };

function expectUnauthorized(response: LightMyRequestResponse, expected: typeof MISSING_TOKEN): void {
  expectExactProblem(response, expected);
  expect(response.headers['www-authenticate']).toBe('Bearer realm="divy"');
}

describe('with AUTH_TOKENS: every route x role', () => {
  const app = useApp(() => ({ auth_tokens: grants() }));

  describe.each(CALLS)('$method $url', (route) => {
    it.each(Object.keys(TOKENS) as RoleName[])('a %s token', async (role) => {
      const response = await call(app(), route, bearer(TOKENS[role]));
      if (route.roles.includes(role)) {
        expect(response.statusCode, response.body).toBe(200);
        expect(response.headers['www-authenticate']).toBeUndefined();
      } else {
        expectExactProblem(response, {
          type: 'urn:divy:problem:forbidden',
          title: 'Forbidden',
          status: 403,
          detail: `A ${role} token may not call ${route.method} ${ROUTE_OF[route.url] ?? route.url}.`,
          request_id: REQUEST_ID,
        });
      }
    });

    it('no token is a 401 with WWW-Authenticate', async () => {
      expectUnauthorized(await call(app(), route), MISSING_TOKEN);
    });

    it.each([
      ['an unknown token', 'Bearer not-a-known-token'],
      ['a known token one character short', `Bearer ${TOKENS.operator.slice(0, -1)}`],
      ['a known token under another scheme', `Basic ${TOKENS.operator}`],
      ['an empty bearer', 'Bearer '],
    ])('%s is a 401', async (_case, header) => {
      const expected = header.startsWith('Bearer ') && header.length > 7 ? UNKNOWN_TOKEN : MISSING_TOKEN;
      expectUnauthorized(await call(app(), route, { authorization: header }), expected);
    });
  });

  it.each(['/healthz', '/readyz'])('GET %s stays open', async (url) => {
    const response = await app().inject({ method: 'GET', url });
    expect(response.statusCode).toBe(200);
  });

  // The console's page and files hold no data; they load without a token so that the page can ask for one.
  it.each([
    ['/console', 'text/html; charset=utf-8'],
    ['/console/static/console.js', 'text/javascript; charset=utf-8'],
    ['/console/static/console.css', 'text/css; charset=utf-8'],
  ])('GET %s stays open', async (url, contentType) => {
    const response = await app().inject({ method: 'GET', url });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe(contentType);
  });

  it('GET /.well-known/jwks.json stays open (a 404 without a signing key, not a 401)', async () => {
    const response = await app().inject({ method: 'GET', url: '/.well-known/jwks.json' });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({ type: 'urn:divy:problem:not-found' });
  });

  it('an unknown path needs a known token before it is a 404', async () => {
    expectUnauthorized(await app().inject({ method: 'GET', url: '/nope', headers: ID_HEADER }), MISSING_TOKEN);
    const response = await app().inject({ method: 'GET', url: '/nope', headers: { ...ID_HEADER, ...bearer(TOKENS.wallet) } });
    expect(response.statusCode).toBe(404);
  });

  it('the OpenAPI document declares the bearer scheme, and no security on the open routes', async () => {
    const document = (await call(app(), { method: 'GET', url: '/docs/json', roles: [] }, bearer(TOKENS.operator))).json();
    expect(document.components.securitySchemes).toEqual({
      bearer: { type: 'http', scheme: 'bearer', description: expect.any(String) },
    });
    expect(document.security).toEqual([{ bearer: [] }]);
    expect(document.paths['/healthz'].get.security).toEqual([]);
    expect(document.paths['/readyz'].get.security).toEqual([]);
    expect(document.paths['/.well-known/jwks.json'].get.security).toEqual([]);
    expect(document.paths['/quote'].post.security).toBeUndefined();
    expect(document.paths['/quote'].post.responses[401].description).toBe('No bearer token, or one the service does not know (urn:divy:problem:unauthorized).');
    expect(document.paths['/policy/{version}'].get.responses[403].content['application/problem+json'].schema).toEqual({ $ref: '#/components/schemas/Problem' });
    expect(document.paths['/healthz'].get.responses[401]).toBeUndefined();
    await expect(SwaggerParser.validate(structuredClone(document) as never)).resolves.toBeDefined();
  });
});

describe('the route table', () => {
  it('names every route, the missing ones included, and defaults to operators', () => {
    expect(accessOf('/metrics')).toEqual(['operator']);
    expect(accessOf('/console')).toBe('open');
    expect(accessOf('/console/static/console.js')).toBe('open');
    expect(accessOf('/console/examples')).toEqual(['operator']);
    expect(accessOf('/docs/static/swagger-ui.css')).toEqual(['operator']);
    expect(accessOf('/some-new-route')).toEqual(['operator']);
    expect(accessOf('/healthz')).toBe('open');
    expect(accessOf(undefined)).toBeUndefined();
    expect(Object.keys(ROUTE_ACCESS)).toContain('/policy/:version');
  });
});

describe('the token compare', () => {
  const table = grants();

  it('matches a known token to its role, through timingSafeEqual over every grant', () => {
    const compare = vi.mocked(crypto.timingSafeEqual);
    compare.mockClear();
    expect(grantOf(table, TOKENS.wallet)?.role).toBe('wallet');
    // No early exit: every grant is compared, each as a 32-byte SHA-256 digest.
    expect(compare).toHaveBeenCalledTimes(3);
    for (const [a, b] of compare.mock.calls) {
      expect((a as Buffer).length).toBe(32);
      expect((b as Buffer).length).toBe(32);
    }
    expect(grantOf(table, TOKENS.coordinator)?.role).toBe('coordinator');
    expect(grantOf(table, TOKENS.operator)?.role).toBe('operator');
  });

  it('matches no token that differs, whatever its length', () => {
    for (const token of ['', 'x', TOKENS.wallet.slice(0, -1), `${TOKENS.wallet}x`, TOKENS.wallet.toUpperCase(), 'y'.repeat(10_000)]) {
      expect(grantOf(table, token), token).toBeUndefined();
    }
  });

  it('keeps digests, not tokens', () => {
    expect(table.map((grant) => grant.digest)).toEqual([digestOf(TOKENS.coordinator), digestOf(TOKENS.wallet), digestOf(TOKENS.operator)]);
    expect(JSON.stringify(table)).not.toContain('secret');
  });

  it('reads only Bearer headers', () => {
    expect(bearerTokenOf('Bearer abc')).toBe('abc');
    expect(bearerTokenOf('bearer abc')).toBe('abc');
    expect(bearerTokenOf('Basic abc')).toBeUndefined();
    expect(bearerTokenOf('Bearer a b')).toBeUndefined();
    expect(bearerTokenOf(undefined)).toBeUndefined();
  });
});

describe('tokens are never logged', () => {
  const { lines, stream } = captureLogLines();
  const app = useApp(() => ({ logger: pino({ level: 'trace' }, stream), auth_tokens: grants() }), (built) => {
    built.post('/test/bug', async () => {
      throw new Error('a bug');
    });
  });

  it('in request lines nor error lines, for known, wrong-role and unknown tokens', async () => {
    await call(app(), CALLS[3]!, bearer(TOKENS.wallet));
    await call(app(), CALLS[3]!, bearer(TOKENS.coordinator));
    await call(app(), CALLS[3]!, bearer('unknown-secret-token-9'));
    await call(app(), { ...CALLS[3]!, body: { nope: 1 } }, bearer(TOKENS.wallet));
    await app().inject({ method: 'POST', url: '/test/bug', headers: bearer(TOKENS.operator) });
    expect(lines.length).toBeGreaterThanOrEqual(5);
    expect(lines.some((line) => line.includes('request failed on a bug'))).toBe(true);
    const all = lines.join('\n');
    for (const token of [...Object.values(TOKENS), 'unknown-secret-token-9']) expect(all).not.toContain(token);
    expect(all.toLowerCase()).not.toContain('bearer');
  });
});

describe('logAuthMode', () => {
  function logged(tokens: readonly TokenGrant[] | undefined): unknown[] {
    const { lines, stream } = captureLogLines();
    logAuthMode(pino({ level: 'info', base: null, timestamp: false }, stream), tokens);
    return lines.map((line) => JSON.parse(line));
  }

  it('warns at start that the service runs open without tokens', () => {
    expect(logged(undefined)).toEqual([
      {
        level: 40,
        msg: 'authentication is off: AUTH_TOKENS and AUTH_TOKENS_FILE are unset, so every endpoint is open to anyone who can reach it',
      },
    ]);
  });

  it('says how many tokens each role has, and no token', () => {
    expect(logged(grants())).toEqual([
      { level: 30, tokens_per_role: { coordinator: 1, wallet: 1, operator: 1 }, msg: 'authentication is on: endpoints need a bearer token' },
    ]);
  });
});

describe('without tokens the service runs open', () => {
  const app = useApp();

  it.each(CALLS)('$method $url answers without a token', async (route) => {
    const response = await call(app(), route);
    expect(response.statusCode, response.body).toBe(200);
  });

  it('the OpenAPI document declares no security', async () => {
    const document = (await app().inject({ method: 'GET', url: '/docs/json' })).json();
    expect(document.security).toBeUndefined();
    expect(document.components.securitySchemes).toBeUndefined();
  });
});

describe('configuration', () => {
  const dir = useTempDir('divy-auth-');

  function configError(env: NodeJS.ProcessEnv): string {
    try {
      loadConfig(env);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as ConfigError).message;
    }
    throw new Error('loadConfig accepted the environment');
  }

  it('reads AUTH_TOKENS as comma-separated role:token pairs, around spaces', () => {
    const config = loadConfig({ AUTH_TOKENS: ` coordinator:${TOKENS.coordinator} , wallet:${TOKENS.wallet},operator:${TOKENS.operator}` });
    expect(config.auth_tokens).toEqual(grants());
    expect(config.rate_limit_per_min).toBeUndefined();
  });

  it('reads AUTH_TOKENS_FILE one pair a line, skipping blank lines and comments', () => {
    const file = dir.writeFile('tokens', `# divy tokens\ncoordinator:${TOKENS.coordinator}\r\n\nwallet:${TOKENS.wallet}\noperator:${TOKENS.operator}\n`);
    expect(loadConfig({ AUTH_TOKENS_FILE: file }).auth_tokens).toEqual(grants());
  });

  it('leaves auth off when neither is set, or both are empty', () => {
    expect(loadConfig({}).auth_tokens).toBeUndefined();
    expect(loadConfig({ AUTH_TOKENS: '', AUTH_TOKENS_FILE: '' }).auth_tokens).toBeUndefined();
  });

  it('reads RATE_LIMIT_PER_MIN', () => {
    expect(loadConfig({ RATE_LIMIT_PER_MIN: '120' }).rate_limit_per_min).toBe(120);
    expect(configError({ RATE_LIMIT_PER_MIN: '0' })).toBe('invalid configuration in the environment: RATE_LIMIT_PER_MIN: must be an integer from 1 to 1000000');
  });

  it.each([
    ['both variables', { AUTH_TOKENS: `operator:${TOKENS.operator}`, AUTH_TOKENS_FILE: '/tokens' }, 'invalid configuration in the environment: AUTH_TOKENS_FILE: must not be set together with AUTH_TOKENS; set one of them'],
    ['an unknown role', { AUTH_TOKENS: `admin:${TOKENS.operator}` }, 'invalid bearer tokens: AUTH_TOKENS entry 1: the role is not one of coordinator, wallet, operator'],
    ['a token without its role', { AUTH_TOKENS: TOKENS.operator }, 'invalid bearer tokens: AUTH_TOKENS entry 1: is not role:token'],
    ['an empty token', { AUTH_TOKENS: `operator:${TOKENS.operator},wallet:` }, 'invalid bearer tokens: AUTH_TOKENS entry 2 (wallet): the token is empty'],
    ['an empty entry', { AUTH_TOKENS: `operator:${TOKENS.operator},,` }, 'invalid bearer tokens: AUTH_TOKENS entry 2: is not role:token; AUTH_TOKENS entry 3: is not role:token'],
    ['a duplicate token', { AUTH_TOKENS: `operator:${TOKENS.operator},wallet:${TOKENS.wallet},coordinator:${TOKENS.operator}` }, 'invalid bearer tokens: AUTH_TOKENS entry 3 (coordinator): the same token as entry 1'],
    ['a token with a space', { AUTH_TOKENS: 'operator:two words' }, 'invalid bearer tokens: AUTH_TOKENS entry 1 (operator): the token holds characters a bearer token cannot carry (only visible ASCII)'],
    ['only separators', { AUTH_TOKENS: ' ' }, 'invalid bearer tokens: AUTH_TOKENS entry 1: is not role:token'],
  ])('refuses %s, naming the variable and no token', (_case, env, message) => {
    const text = configError(env);
    expect(text).toBe(message);
    for (const token of Object.values(TOKENS)) expect(text).not.toContain(token);
  });

  it('refuses a bad AUTH_TOKENS_FILE line by line, and a file that lists nothing', () => {
    const bad = dir.writeFile('bad', `# tokens\noperator:${TOKENS.operator}\nroot:${TOKENS.wallet}\nwallet:${TOKENS.operator}\n`);
    expect(configError({ AUTH_TOKENS_FILE: bad })).toBe(
      `invalid bearer tokens: AUTH_TOKENS_FILE ${bad} line 3: the role is not one of coordinator, wallet, operator; AUTH_TOKENS_FILE ${bad} line 4 (wallet): the same token as line 2`,
    );
    const empty = dir.writeFile('empty', '# nothing yet\n\n');
    expect(configError({ AUTH_TOKENS_FILE: empty })).toBe(`invalid bearer tokens: AUTH_TOKENS_FILE ${empty}: lists no role:token pair`);
  });

  it('refuses an AUTH_TOKENS_FILE it cannot read', () => {
    const missing = dir.path('missing');
    expect(configError({ AUTH_TOKENS_FILE: missing })).toBe(`AUTH_TOKENS_FILE ${missing} cannot be read: ENOENT: no such file or directory, open '${missing}'`);
  });
});

describe('RATE_LIMIT_PER_MIN', () => {
  describe('with auth: per token', () => {
    const app = useApp(() => ({ auth_tokens: grants(), rate_limit_per_min: 2 }));

    it('answers 429 with Retry-After past the limit, counting each token apart', async () => {
      const policy: Call = { method: 'GET', url: '/policy', roles: OPERATOR };
      expect((await call(app(), policy, bearer(TOKENS.operator))).statusCode).toBe(200);
      expect((await call(app(), policy, bearer(TOKENS.operator))).statusCode).toBe(200);
      const refused = await call(app(), policy, bearer(TOKENS.operator));
      expectExactProblem(refused, {
        type: 'urn:divy:problem:rate-limited',
        title: 'Too Many Requests',
        status: 429,
        detail: 'More than 2 requests in a minute; retry after 60 s (Retry-After).',
        request_id: REQUEST_ID,
      });
      expect(refused.headers['retry-after']).toBe('60');
      // Another token has its own budget.
      expect((await call(app(), CALLS[3]!, bearer(TOKENS.wallet))).statusCode).toBe(200);
      // Health probes are never limited.
      for (let i = 0; i < 4; i += 1) expect((await app().inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    });
  });

  describe('without auth: per IP', () => {
    const app = useApp({ rate_limit_per_min: 1 });

    it('answers 429 with Retry-After past the limit', async () => {
      const quote = CALLS[3]!;
      expect((await call(app(), quote)).statusCode).toBe(200);
      const refused = await call(app(), quote);
      expect(refused.statusCode).toBe(429);
      expect(refused.headers['retry-after']).toBe('60');
      expect(refused.json()).toMatchObject({ type: 'urn:divy:problem:rate-limited', status: 429 });
      const elsewhere = await app().inject({ method: 'POST', url: '/quote', remoteAddress: '10.0.0.2', payload: QUOTE_EXAMPLE });
      expect(elsewhere.statusCode).toBe(200);
    });
  });
});

describe('security headers', () => {
  const app = useApp(() => ({ auth_tokens: grants() }));

  it.each([
    ['/docs', bearer(TOKENS.operator)],
    ['/docs/static/swagger-ui-bundle.js', bearer(TOKENS.operator)],
    ['/console', bearer(TOKENS.operator)],
    ['/console/static/console.js', {}],
  ])('GET %s, a page or its asset, carries helmet headers', async (url, headers) => {
    const response = await app().inject({ method: 'GET', url, headers });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-security-policy']).toContain("default-src 'self'");
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['strict-transport-security']).toBeDefined();
    expect(response.headers['x-frame-options']).toBe('SAMEORIGIN');
  });

  it.each([
    ['GET /healthz', () => app().inject({ method: 'GET', url: '/healthz' }), 200],
    ['POST /quote', () => app().inject({ method: 'POST', url: '/quote', headers: bearer(TOKENS.wallet), payload: QUOTE_EXAMPLE }), 200],
    ['a problem', () => app().inject({ method: 'POST', url: '/quote' }), 401],
  ])('%s, a JSON answer, carries nosniff and none of the page headers', async (_name, send, status) => {
    const response = await send();
    expect(response.statusCode).toBe(status);
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    for (const pageHeader of ['content-security-policy', 'strict-transport-security', 'x-frame-options', 'cross-origin-opener-policy', 'referrer-policy']) {
      expect(response.headers[pageHeader]).toBeUndefined();
    }
  });

  it('the Swagger UI page loads only assets its CSP allows: scripts and styles from the service itself', async () => {
    const response = await app().inject({ method: 'GET', url: '/docs/', headers: bearer(TOKENS.operator) });
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('<div id="swagger-ui">');
    // No inline script, which script-src 'self' would block.
    expect(response.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>\s*\S/);
    const csp = response.headers['content-security-policy'] as string;
    expect(csp).toContain("script-src 'self'");
  });
});

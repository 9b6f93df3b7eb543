/**
 * Signed answers (RFC 9421): every 200 answer of a route tagged 'accounting' verifies with the key
 * the service publishes, binds the answer body and the request bytes exactly as received, and is
 * the same bytes every time. Nothing else is signed, and without a key nothing is.
 */
import { spawn } from 'node:child_process';
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { createVerifier, httpbis } from 'http-message-signatures';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTRIBUTION_EXAMPLE, QUOTE_EXAMPLE, REALTIME_DELTA_EXAMPLE } from '../../src/http/schemas/examples.js';
import { JWKS_EXAMPLE_KEY } from '../../src/http/schemas/jwks.js';
import { publicJwkOf } from '../../src/http/signing-key.js';
import { expectExactProblem, expectProblem, JSON_CONTENT_TYPE, POST_ROUTES, useApp } from '../support/http.js';
import { committedDocumentText, operations, servedDocument, type OpenApiDocument } from '../support/openapi.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const JWKS_PATH = '/.well-known/jwks.json';
const REQUEST_ID = 'signed-request-0001';
const COVERED = ['@status', 'content-type', 'content-digest', 'divy-request-digest'];
const SIGNING_HEADERS = ['signature', 'signature-input', 'content-digest', 'divy-request-digest'];

const { privateKey: signingKey, publicKey } = generateKeyPairSync('ed25519');

interface Jwk {
  readonly kty: string;
  readonly crv: string;
  readonly x: string;
  readonly kid: string;
  readonly alg: string;
  readonly use: string;
}

/** Whether an operation of an OpenAPI document is tagged 'accounting'. */
function isAccounting({ operation }: { operation: object }): boolean {
  return (operation as { tags?: readonly string[] }).tags?.includes('accounting') ?? false;
}

/** The accounting routes, as the committed document lists them (openapi.test.ts keeps it current). */
const ACCOUNTING_ROUTES = operations(JSON.parse(committedDocumentText()) as OpenApiDocument)
  .filter(isAccounting)
  .map(({ method, path, operation }) => ({ method, path, example: operation.requestBody?.content['application/json']?.example }));

/** A digest field value as RFC 9530 writes it, computed here independently of the service. */
function sha256Field(bytes: Buffer | string): string {
  return `sha-256=:${createHash('sha256').update(bytes).digest('base64')}:`;
}

/** RFC 7638 by hand: the required members in lexicographic order, hashed, base64url. */
function thumbprintOf(x: string): string {
  return createHash('sha256').update(`{"crv":"Ed25519","kty":"OKP","x":"${x}"}`).digest('base64url');
}

/** JSON no serializer writes: CRLF, tabs, spaces before colons, leading and trailing whitespace. */
function unusualJson(value: unknown): Buffer {
  const text = JSON.stringify(value, null, '\t ').replaceAll('\n', '\r\n').replaceAll('": ', '" :\t ');
  return Buffer.from(`\r\n \t${text} \r\n\t`, 'utf8');
}

function postBytes(app: FastifyInstance, url: string, body: Buffer, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url, payload: body, headers: { 'content-type': 'application/json', ...headers } });
}

/** The answer's headers as plain strings, as a client sees them. */
function headersOf(response: LightMyRequestResponse): Record<string, string> {
  return Object.fromEntries(Object.entries(response.headers).flatMap(([name, value]) => (value === undefined ? [] : [[name, String(value)]])));
}

/** Whether an answer's signature verifies with a key of `keys`, covering every component Divy signs. */
async function signatureVerifies(keys: readonly Jwk[], status: number, headers: Record<string, string>): Promise<boolean> {
  const result = await httpbis.verifyMessage(
    {
      keyLookup: async ({ keyid }) => {
        const jwk = keys.find((key) => key.kid === keyid);
        if (jwk === undefined) return null;
        return { id: jwk.kid, algs: ['ed25519'], verify: createVerifier(createPublicKey({ key: { ...jwk }, format: 'jwk' }), 'ed25519') };
      },
      requiredFields: COVERED,
      requiredParams: ['keyid', 'alg'],
    },
    { status, headers },
  );
  return result === true;
}

async function servedKeys(app: FastifyInstance): Promise<readonly Jwk[]> {
  const response = await app.inject({ method: 'GET', url: JWKS_PATH });
  expect(response.statusCode, response.body).toBe(200);
  return response.json<{ keys: Jwk[] }>().keys;
}

function expectUnsigned(response: LightMyRequestResponse): void {
  for (const name of SIGNING_HEADERS) expect(response.headers[name], `${name} on a ${response.statusCode}`).toBeUndefined();
}

describe('the accounting routes', () => {
  it('are the four POST endpoints, and any added since, each with an example', () => {
    expect(ACCOUNTING_ROUTES.map(({ path }) => path)).toEqual(expect.arrayContaining([...POST_ROUTES]));
    for (const { method, path, example } of ACCOUNTING_ROUTES) {
      expect(method, path).toBe('post');
      expect(example, path).toBeDefined();
    }
  });
});

describe('with a signing key', () => {
  const app = useApp({ signing_key: signingKey }, (built) => {
    // Declared after the app is built, as a later endpoint would be: the tag alone makes it sign.
    built.post('/test/tagged', { schema: { tags: ['accounting'] } }, async () => ({ tagged: true }));
    built.post('/test/untagged', { schema: { tags: ['operations'] } }, async () => ({ tagged: false }));
    built.post('/test/tagged-bug', { schema: { tags: ['accounting'] } }, async () => {
      throw new Error('a bug');
    });
  });

  it(`GET ${JWKS_PATH} publishes the public key, named by its RFC 7638 thumbprint`, async () => {
    const response = await app().inject({ method: 'GET', url: JWKS_PATH });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe(JSON_CONTENT_TYPE);
    const { x } = publicKey.export({ format: 'jwk' });
    expect(response.json()).toStrictEqual({ keys: [{ kty: 'OKP', crv: 'Ed25519', x, kid: thumbprintOf(x!), alg: 'EdDSA', use: 'sig' }] });
    expectUnsigned(response);
  });

  it('serves a document whose accounting routes are the ones tested here', async () => {
    const { document } = await servedDocument(app());
    const served = operations(document).filter(isAccounting);
    expect(served.map(({ path }) => path).filter((path) => !path.startsWith('/test/'))).toEqual(ACCOUNTING_ROUTES.map(({ path }) => path));
  });

  describe.each(ACCOUNTING_ROUTES)('POST $path', ({ path, example }) => {
    const requestBytes = unusualJson(example);

    it('answers 200 with well-formed signature headers', async () => {
      const response = await postBytes(app(), path, requestBytes);
      expect(response.statusCode, response.body).toBe(200);
      const kid = thumbprintOf(publicKey.export({ format: 'jwk' }).x!);
      expect(response.headers['signature-input']).toBe(`divy=("@status" "content-type" "content-digest" "divy-request-digest");keyid="${kid}";alg="ed25519"`);
      // 64 bytes of Ed25519 signature: 88 characters of base64.
      expect(response.headers['signature']).toMatch(/^divy=:[A-Za-z0-9+/]{86}==:$/);
      expect(response.headers['content-digest']).toMatch(/^sha-256=:[A-Za-z0-9+/]{43}=:$/);
      expect(response.headers['divy-request-digest']).toMatch(/^sha-256=:[A-Za-z0-9+/]{43}=:$/);
      expect(response.headers['content-type']).toBe(JSON_CONTENT_TYPE);
    });

    it('verifies with the served key; the digests are of the answer body and of the request bytes as sent', async () => {
      const response = await postBytes(app(), path, requestBytes);
      expect(await signatureVerifies(await servedKeys(app()), response.statusCode, headersOf(response))).toBe(true);
      expect(response.headers['content-digest']).toBe(sha256Field(response.rawPayload));
      expect(response.headers['divy-request-digest']).toBe(sha256Field(requestBytes));
      // Not the digest of the body as a serializer would write it again.
      expect(response.headers['divy-request-digest']).not.toBe(sha256Field(JSON.stringify(example)));
    });

    it('is byte-identical for the same request: headers and body', async () => {
      const first = await postBytes(app(), path, requestBytes, { 'x-request-id': REQUEST_ID });
      const second = await postBytes(app(), path, requestBytes, { 'x-request-id': REQUEST_ID });
      // Date is the clock's, added by Node's HTTP layer, and covered by nothing.
      const { date: _first, ...firstHeaders } = first.headers;
      const { date: _second, ...secondHeaders } = second.headers;
      expect(secondHeaders).toStrictEqual(firstHeaders);
      expect(second.rawPayload.equals(first.rawPayload)).toBe(true);
    });

    it('property: one changed byte of the answer body or of the request body fails the check', async () => {
      const response = await postBytes(app(), path, requestBytes);
      const keys = await servedKeys(app());
      const headers = headersOf(response);
      const answerBytes = response.rawPayload;
      const flip = (bytes: Buffer, index: number, mask: number): Buffer => {
        const changed = Buffer.from(bytes);
        changed[index] = changed[index]! ^ mask;
        return changed;
      };
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom('answer', 'request'),
          fc.nat(),
          fc.integer({ min: 1, max: 255 }),
          async (which, position, mask) => {
            const original = which === 'answer' ? answerBytes : requestBytes;
            const header = which === 'answer' ? 'content-digest' : 'divy-request-digest';
            const changed = flip(original, position % original.length, mask);
            // The digest the answer carries no longer matches the changed bytes...
            expect(sha256Field(changed)).not.toBe(headers[header]);
            // ...and a digest rewritten to match them breaks the signature.
            expect(await signatureVerifies(keys, response.statusCode, { ...headers, [header]: sha256Field(changed) })).toBe(false);
          },
        ),
        { numRuns: 40 },
      );
    });

    it('binds the status and the content type too', async () => {
      const response = await postBytes(app(), path, requestBytes);
      const keys = await servedKeys(app());
      const headers = headersOf(response);
      expect(await signatureVerifies(keys, 201, headers)).toBe(false);
      expect(await signatureVerifies(keys, 200, { ...headers, 'content-type': 'text/plain' })).toBe(false);
      expect(await signatureVerifies(keys, 200, headers)).toBe(true);
    });
  });

  it('property: whatever whitespace and characters the request holds, the request digest is of its exact bytes', async () => {
    const keys = await servedKeys(app());
    const whitespace = fc.string({ unit: fc.constantFrom(' ', '\t', '\r', '\n'), maxLength: 4 });
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1, maxLength: 12, unit: 'grapheme' }), whitespace, whitespace, async (worker_id, before, after) => {
        const job = { ...CONTRIBUTION_EXAMPLE, assignments: CONTRIBUTION_EXAMPLE.assignments.map((assignment, index) => ({ ...assignment, worker_id: `${worker_id}${index}` })) };
        const requestBytes = Buffer.from(`${before}${JSON.stringify(job, null, after.replaceAll('\r', ' ').replaceAll('\n', ' '))}${after}`, 'utf8');
        const response = await postBytes(app(), '/contribution', requestBytes);
        expect(response.statusCode, response.body).toBe(200);
        expect(response.headers['divy-request-digest']).toBe(sha256Field(requestBytes));
        expect(response.headers['content-digest']).toBe(sha256Field(response.rawPayload));
        expect(await signatureVerifies(keys, 200, headersOf(response))).toBe(true);
      }),
      { numRuns: 30 },
    );
  });

  it('signs a route tagged accounting that is declared after the app is built, and not an untagged one', async () => {
    const body = Buffer.from('{ "any" : 1 }');
    const tagged = await postBytes(app(), '/test/tagged', body);
    expect(tagged.statusCode).toBe(200);
    expect(tagged.headers['divy-request-digest']).toBe(sha256Field(body));
    expect(await signatureVerifies(await servedKeys(app()), 200, headersOf(tagged))).toBe(true);
    const untagged = await postBytes(app(), '/test/untagged', body);
    expect(untagged.statusCode).toBe(200);
    expectUnsigned(untagged);
  });

  describe('leaves unsigned every answer that is not a 200 of an accounting route', () => {
    it('204: nothing new to account', async () => {
      const nothingNew = { ...REALTIME_DELTA_EXAMPLE, accounted_completion_tokens: REALTIME_DELTA_EXAMPLE.frontier_completion_tokens };
      const response = await postBytes(app(), '/realtime-delta', Buffer.from(JSON.stringify(nothingNew)));
      expect(response.statusCode).toBe(204);
      expectUnsigned(response);
    });

    it('400: malformed JSON, an empty body and prototype keys answer exactly as without signing', async () => {
      const malformed = {
        type: 'urn:divy:problem:malformed-json',
        title: 'Malformed JSON',
        status: 400,
        detail: 'The request body is not valid JSON.',
        request_id: REQUEST_ID,
      };
      for (const body of ['{"prompt_tokens": 1,', '']) {
        const response = await postBytes(app(), '/quote', Buffer.from(body), { 'x-request-id': REQUEST_ID });
        expectExactProblem(response, malformed);
        expectUnsigned(response);
      }
      for (const [body, path] of [
        ['{"__proto__":{"polluted":1}}', '/__proto__'],
        ['{"constructor":{"prototype":{"polluted":1}}}', '/constructor/prototype'],
      ] as const) {
        const response = await postBytes(app(), '/quote', Buffer.from(body), { 'x-request-id': REQUEST_ID });
        expectExactProblem(response, {
          type: 'urn:divy:problem:forbidden-key',
          title: 'Forbidden key',
          status: 400,
          detail: 'The request body holds a key that could alter object prototypes (__proto__, or constructor holding prototype); remove it.',
          errors: [{ path, message: 'is a forbidden key' }],
          request_id: REQUEST_ID,
        });
        expectUnsigned(response);
      }
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    });

    it('400: a body that breaks the schema', async () => {
      const response = await postBytes(app(), '/quote', Buffer.from(JSON.stringify({ ...QUOTE_EXAMPLE, extra: 1 })), { 'x-request-id': REQUEST_ID });
      expectExactProblem(response, {
        type: 'urn:divy:problem:invalid-request',
        title: 'Request does not match the schema',
        status: 400,
        detail: '1 field is missing, unknown or of the wrong type.',
        errors: [{ path: '/extra', message: 'is not a known field' }],
        request_id: REQUEST_ID,
      });
      expectUnsigned(response);
    });

    it('409 and 422: a burn past the reservation, a broken rule', async () => {
      const pastReservation = { ...REALTIME_DELTA_EXAMPLE, frontier_completion_tokens: 300 };
      const conflict = await postBytes(app(), '/realtime-delta', Buffer.from(JSON.stringify(pastReservation)));
      expectProblem(conflict, 409);
      expectUnsigned(conflict);
      const violation = await postBytes(app(), '/contribution', Buffer.from(JSON.stringify({ ...CONTRIBUTION_EXAMPLE, total_columns: 8000 })));
      expectProblem(violation, 422);
      expectUnsigned(violation);
    });

    it('404 and 500', async () => {
      const notFound = await postBytes(app(), '/nowhere', Buffer.from('{}'));
      expectProblem(notFound, 404);
      expectUnsigned(notFound);
      const bug = await postBytes(app(), '/test/tagged-bug', Buffer.from('{}'));
      expectProblem(bug, 500);
      expectUnsigned(bug);
    });

    it.each(['/policy', '/healthz', '/readyz', JWKS_PATH, '/docs/json'])('GET %s', async (url) => {
      const response = await app().inject({ method: 'GET', url });
      expect(response.statusCode).toBe(200);
      expectUnsigned(response);
    });
  });
});

describe('with a signing key and a small body limit', () => {
  const app = useApp({ signing_key: signingKey, body_limit_bytes: 100 });

  it('413 is not signed', async () => {
    const response = await postBytes(app(), '/contribution', Buffer.from(JSON.stringify(CONTRIBUTION_EXAMPLE)));
    expectProblem(response, 413);
    expectUnsigned(response);
  });
});

describe('without a signing key', () => {
  const app = useApp();

  it.each(ACCOUNTING_ROUTES)('POST $path answers 200 unsigned', async ({ path, example }) => {
    const response = await postBytes(app(), path, unusualJson(example));
    expect(response.statusCode, response.body).toBe(200);
    expectUnsigned(response);
  });

  it(`GET ${JWKS_PATH} is a 404 problem that says why`, async () => {
    const response = await app().inject({ method: 'GET', url: JWKS_PATH, headers: { 'x-request-id': REQUEST_ID } });
    expectExactProblem(response, {
      type: 'urn:divy:problem:not-found',
      title: 'Not Found',
      status: 404,
      detail: 'This service signs no answers, so it publishes no key: it runs without SIGNING_KEY_FILE.',
      request_id: REQUEST_ID,
    });
  });
});

describe('the key id', () => {
  it("is RFC 7638's thumbprint: RFC 8037's example key gives the thumbprint RFC 8037 publishes, as the documented example shows", () => {
    const rfc8037Key = createPrivateKey({
      key: { kty: 'OKP', crv: 'Ed25519', d: 'nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' },
      format: 'jwk',
    });
    const jwk = publicJwkOf(rfc8037Key);
    expect(jwk.kid).toBe('kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k');
    expect(jwk).toStrictEqual(JWKS_EXAMPLE_KEY);
  });
});

describe("the README's verify script", () => {
  const app = useApp({ signing_key: signingKey });
  let directory: string;

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'divy-signatures-test-'));
    await app().listen({ port: 0, host: '127.0.0.1' });
  });

  afterAll(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  /** Runs the script as the README shows it, from the project root so that it finds its package. */
  function runScript(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const script = /```js\n(\/\/ verify-answer\.mjs[\s\S]*?)```/.exec(readme)?.[1];
    expect(script, 'README.md has a ```js block that starts with // verify-answer.mjs').toBeDefined();
    const child = spawn(process.execPath, ['--input-type=module', '-', ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdin.end(script);
    return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
  }

  it('verifies a live answer of the service', async () => {
    const { port } = app().server.address() as AddressInfo;
    const requestFile = join(directory, 'quote.json');
    writeFileSync(requestFile, unusualJson(QUOTE_EXAMPLE));
    const { code, stdout, stderr } = await runScript([`http://127.0.0.1:${port}`, '/quote', requestFile]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^verified: 200 /);
  });
});

/**
 * CSV answers for spreadsheets: /contribution and /realtime-delta answer text/csv when the request
 * prefers it. The README's example exactly; properties over arbitrary jobs and worker ids (one
 * record a worker, every value the JSON answer's, quoting that reads back, no cell a spreadsheet
 * would run as a formula); content negotiation; problems, 204s, signatures and metrics unchanged.
 */
import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { createVerifier, httpbis } from 'http-message-signatures';
import { describe, expect, it } from 'vitest';
import { CSV_CONTENT_TYPE, WORKER_CREDIT_COLUMNS, workerCreditsCsv } from '../../src/http/csv.js';
import { CONTRIBUTION_EXAMPLE, REALTIME_DELTA_EXAMPLE } from '../../src/http/schemas/examples.js';
import { JSON_ONLY_ACCEPTS, negotiatedCsv, prefersCsv } from '../../src/http/worker-credits-answer.js';
import type { WorkerAssignment, WorkerCredit } from '../../src/policy/index.js';
import { ID_HEADER, INTERNAL_ERROR, JSON_CONTENT_TYPE, oneViolation, postJson, REQUEST_ID, reservationExceeded, useApp, expectExactProblem, invalidRequest } from '../support/http.js';

const CSV = { accept: 'text/csv' } as const;
const CSV_ROUTES = ['/contribution', '/realtime-delta'] as const;
const EXAMPLES = { '/contribution': CONTRIBUTION_EXAMPLE, '/realtime-delta': REALTIME_DELTA_EXAMPLE } as const;

/**
 * RFC 4180, read strictly and independently of the writer: records end in CRLF, a field is
 * either bare (no comma, quote, CR or LF) or quoted with its quotes doubled. Anything else throws.
 */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let index = 0;
  while (index < text.length) {
    let field = '';
    if (text[index] === '"') {
      index++;
      for (;;) {
        if (index >= text.length) throw new Error('unterminated quoted field');
        if (text[index] === '"') {
          if (text[index + 1] === '"') {
            field += '"';
            index += 2;
            continue;
          }
          index++;
          break;
        }
        field += text[index++];
      }
    } else {
      while (index < text.length && !',\r\n"'.includes(text[index]!)) field += text[index++];
      if (text[index] === '"' || text[index] === '\n' || (text[index] === '\r' && text[index + 1] !== '\n')) throw new Error(`bad character at ${index}`);
    }
    record.push(field);
    if (text[index] === ',') {
      index++;
      continue;
    }
    if (text.startsWith('\r\n', index)) {
      index += 2;
      records.push(record);
      record = [];
      continue;
    }
    throw new Error(`a record does not end in CRLF at ${index}`);
  }
  if (record.length > 0) throw new Error('the last record does not end in CRLF');
  return records;
}

/** The worker_id a cell holds, as the README says to read it: one leading apostrophe dropped. */
function workerIdOf(cell: string): string {
  return cell.startsWith("'") ? cell.slice(1) : cell;
}

/** A JSON answer's worker as the CSV writes it: text as is, numbers as JSON writes them. */
function asCells(worker: WorkerCredit): string[] {
  return WORKER_CREDIT_COLUMNS.map((column) => (typeof worker[column] === 'number' ? JSON.stringify(worker[column]) : String(worker[column])));
}

const FORMULA_START = /^[=+\-@\t\r\n]/;

/** Worker ids that try every kind of trouble: separators, quotes, line breaks, formula starters, any Unicode. */
const workerId = fc.oneof(
  fc.string({ minLength: 1, maxLength: 12, unit: fc.constantFrom(...'=+-@\t\r\n\'",; a1') }),
  fc.tuple(fc.constantFrom('=', '+', '-', '@', '\t', '\r', "'", '"'), fc.string({ maxLength: 10, unit: 'grapheme' })).map(([start, rest]) => start + rest),
  fc.string({ minLength: 1, maxLength: 20, unit: 'grapheme' }),
);

const TOTAL_COLUMNS = 64;
const assignment = fc
  .record({
    worker_id: workerId,
    execution_time_ms: fc.nat(5_000),
    assigned_capacity_units: fc.integer({ min: 1, max: 32 }),
    shard_column_start: fc.nat(TOTAL_COLUMNS - 1),
    width: fc.integer({ min: 1, max: TOTAL_COLUMNS }),
    available_memory_bytes: fc.integer({ min: 1, max: 2 ** 40 }),
  })
  .map(({ width, ...rest }): WorkerAssignment => ({ ...rest, shard_column_end: Math.min(TOTAL_COLUMNS, rest.shard_column_start + width) }));

const job = fc.record({
  prompt_tokens: fc.nat(4096),
  completion_tokens: fc.integer({ min: 1, max: 4096 }),
  total_model_bytes: fc.integer({ min: 1, max: 2 ** 40 }),
  assignments: fc.array(assignment, { minLength: 1, maxLength: 12 }),
});

/** The request of `route` for a generated job: a whole contribution, or a delta from 0 to its completion. */
function requestOf(route: (typeof CSV_ROUTES)[number], generated: { prompt_tokens: number; completion_tokens: number; total_model_bytes: number; assignments: WorkerAssignment[] }) {
  const { completion_tokens, ...common } = generated;
  if (route === '/contribution') return { ...common, completion_tokens, total_columns: TOTAL_COLUMNS };
  return {
    ...common,
    frontier_completion_tokens: completion_tokens,
    accounted_completion_tokens: 0,
    prompt_credits_accounted: false,
    total_columns: TOTAL_COLUMNS,
  };
}

function workersOf(route: (typeof CSV_ROUTES)[number], answer: unknown): WorkerCredit[] {
  return route === '/contribution'
    ? (answer as { assignments: WorkerCredit[] }).assignments
    : (answer as { contribution: { assignments: WorkerCredit[] } }).contribution.assignments;
}

/** The README's CSV example, with its lines ending in CRLF as the service sends them. */
function readmeCsvExample(): string {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('### CSV for spreadsheets'));
  const block = /```csv\n([\s\S]*?)```/.exec(section);
  expect(block, 'the README has a csv block under "CSV for spreadsheets"').not.toBeNull();
  return block![1]!.replaceAll('\n', '\r\n');
}

function expectCsv(response: LightMyRequestResponse): string[][] {
  expect(response.statusCode, response.body).toBe(200);
  expect(response.headers['content-type']).toBe(CSV_CONTENT_TYPE);
  expect(response.headers['vary']).toBe('Accept');
  return parseCsv(response.body);
}

describe('the README example', () => {
  const app = useApp();

  it('POST /contribution with Accept: text/csv answers exactly the CSV the README shows', async () => {
    const response = await postJson(app(), '/contribution', CONTRIBUTION_EXAMPLE, CSV);
    expectCsv(response);
    expect(response.body).toBe(readmeCsvExample());
    expect(response.body).toBe(
      'worker_id,credits,compute_share,throughput_multiplier,resource_pressure_multiplier,normalized_contribution_share,measured_service_rate,reference_service_rate,memory_pressure\r\n' +
        'fast-metal,528.000000000,0.6666666666666666,1.5,1.15,0.8571428571428571,13.333333333333334,7.777777777777779,1\r\n' +
        'slow-cpu,88.000000000,0.3333333333333333,0.5,1.15,0.14285714285714285,2.2222222222222223,7.777777777777779,1\r\n',
    );
  });

  it('POST /realtime-delta with Accept: text/csv answers the workers of the delta: 13.714285714 and 2.285714286', async () => {
    const rows = expectCsv(await postJson(app(), '/realtime-delta', REALTIME_DELTA_EXAMPLE, CSV));
    expect(rows.map((row) => row.slice(0, 2))).toStrictEqual([
      ['worker_id', 'credits'],
      ['fast-metal', '13.714285714'],
      ['slow-cpu', '2.285714286'],
    ]);
  });

  it('the header names every field a worker has in the JSON answer, in the same order', async () => {
    for (const route of CSV_ROUTES) {
      const json = (await postJson(app(), route, EXAMPLES[route])).json<unknown>();
      const [header] = expectCsv(await postJson(app(), route, EXAMPLES[route], CSV));
      expect(header, route).toStrictEqual(Object.keys(workersOf(route, json)[0]!));
    }
  });
});

describe('property: the CSV holds exactly the JSON answer\'s workers', () => {
  const app = useApp();

  it.each(CSV_ROUTES)('%s: one record per assignment, every value equal to the JSON answer\'s, every worker_id read back exactly', async (route) => {
    await fc.assert(
      fc.asyncProperty(job, async (generated) => {
        const request = requestOf(route, generated);
        const json = await postJson(app(), route, request);
        expect(json.statusCode, json.body).toBe(200);
        const workers = workersOf(route, json.json());
        const [header, ...records] = expectCsv(await postJson(app(), route, request, CSV));
        expect(header).toStrictEqual([...WORKER_CREDIT_COLUMNS]);
        expect(records.length).toBe(generated.assignments.length);
        records.forEach((record, index) => {
          const worker = workers[index]!;
          expect(workerIdOf(record[0]!)).toBe(worker.worker_id);
          expect(record.slice(1)).toStrictEqual(asCells(worker).slice(1));
          // Parsed back, each number is the JSON's number.
          WORKER_CREDIT_COLUMNS.forEach((column, at) => {
            if (typeof worker[column] === 'number') expect(Number(record[at])).toBe(worker[column]);
          });
          for (const cell of record) expect(cell, 'a cell a spreadsheet would run as a formula').not.toMatch(FORMULA_START);
        });
      }),
      { numRuns: 60 },
    );
  });
});

describe('property: the writer quotes and guards any worker_id so it reads back', () => {
  const worker: WorkerCredit = { worker_id: 'x', credits: '1.000000000', compute_share: 1, throughput_multiplier: 1, resource_pressure_multiplier: 1, normalized_contribution_share: 1, measured_service_rate: 1, reference_service_rate: 1, memory_pressure: 1 };

  it('any list of worker ids: header plus one record each, ids read back exactly, no cell starts a formula', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(workerId, fc.string({ unit: 'binary', maxLength: 30 })), { maxLength: 8 }), (ids) => {
        const records = parseCsv(workerCreditsCsv(ids.map((worker_id) => ({ ...worker, worker_id }))));
        expect(records.length).toBe(ids.length + 1);
        expect(records.slice(1).map((record) => workerIdOf(record[0]!))).toStrictEqual(ids);
        for (const record of records) {
          expect(record.length).toBe(WORKER_CREDIT_COLUMNS.length);
          expect(record[0]).not.toMatch(FORMULA_START);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it.each([
    ['=HYPERLINK("http://x.invalid","click")', '"\'=HYPERLINK(""http://x.invalid"",""click"")"'],
    ['+1', "'+1"],
    ['-2+3', "'-2+3"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tcmd', "'\tcmd"],
    ['\r=1', '"\'\r=1"'],
    ["'quoted", "''quoted"],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['line\nbreak', '"line\nbreak"'],
    ['a=b', 'a=b'],
  ])('worker_id %j is written as %s', (worker_id, cell) => {
    const afterHeader = workerCreditsCsv([{ ...worker, worker_id }]).slice(workerCreditsCsv([]).length);
    expect(afterHeader.startsWith(`${cell},1.000000000,`), afterHeader).toBe(true);
  });
});

describe('content negotiation', () => {
  const app = useApp();

  it.each([
    [undefined, 'json'],
    ['*/*', 'json'],
    ['application/json', 'json'],
    ['application/*', 'json'],
    ['text/csv', 'csv'],
    ['TEXT/CSV', 'csv'],
    ['text/csv; charset=utf-8', 'csv'],
    ['text/csv;charset="UTF-8";header=present', 'csv'],
    ['text/*', 'csv'],
    ['text/csv, application/json;q=0.5', 'csv'],
    ['application/json;q=0.5, text/csv', 'csv'],
    ['text/csv;q=0.9, application/json;q=0.8', 'csv'],
    ['application/json, text/csv', 'json'],
    ['text/csv, application/json', 'csv'],
    ['text/*, application/json', 'json'],
    ['*/*;q=0.1, text/csv', 'csv'],
    ['text/csv, */*', 'csv'],
    ['text/csv;q=0, */*', 'json'],
    ['application/*;q=0.2, text/csv;q=0.1', 'json'],
    ['text/csv; charset=iso-8859-1', 'json'],
    ['text/csv; header=absent', 'json'],
    ['text/html', 'json'],
    ['application/json;q=0, text/csv;q=0', 'json'],
    // A weight over 1 is not HTTP; negotiator reads it as a weight all the same.
    ['text/csv;q=2', 'csv'],
    ['text/csv;q=0.5;level=1, application/json;q=0.4', 'csv'],
    ['nonsense', 'json'],
  ] as const)('Accept: %s answers %s', async (accept, expected) => {
    for (const route of CSV_ROUTES) {
      const response = await postJson(app(), route, EXAMPLES[route], accept === undefined ? {} : { accept });
      expect(response.statusCode, `${route} ${response.body}`).toBe(200);
      expect(response.headers['content-type'], route).toBe(expected === 'csv' ? CSV_CONTENT_TYPE : JSON_CONTENT_TYPE);
      expect(response.headers['vary'], route).toBe('Accept');
    }
  });

  it('the other POST routes answer JSON whatever Accept says', async () => {
    const response = await postJson(app(), '/quote', { prompt_tokens: 1, requested_completion_tokens: 1, total_model_bytes: 1 }, CSV);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe(JSON_CONTENT_TYPE);
  });
});

describe('the Accept values answered without negotiation', () => {
  it('are exactly those Negotiator itself reads as the JSON', () => {
    expect([...JSON_ONLY_ACCEPTS]).toEqual([undefined, '', '*/*', 'application/json']);
    for (const accept of JSON_ONLY_ACCEPTS) expect(negotiatedCsv(accept), String(accept)).toBe(false);
  });

  it('property: the choice is Negotiator\'s for any Accept value', () => {
    const mediaRange = fc.constantFrom('text/csv', 'application/json', '*/*', 'text/*', 'application/*', 'text/html', 'TEXT/CSV', 'nonsense');
    const parameter = fc.constantFrom('', ';q=0', ';q=0.5', ';q=1', ';header=present', ';header=absent', ';charset=utf-8', '; q=0.1');
    const accept = fc.oneof(
      fc.constant(undefined),
      fc.array(fc.tuple(mediaRange, parameter).map(([range, parameters]) => `${range}${parameters}`), { maxLength: 4 }).map((ranges) => ranges.join(', ')),
      fc.string({ maxLength: 40 }),
    );
    fc.assert(
      fc.property(accept, (value) => {
        expect(prefersCsv({ headers: value === undefined ? {} : { accept: value } })).toBe(negotiatedCsv(value));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('what stays as it is with Accept: text/csv', () => {
  const app = useApp();
  const headers = { ...CSV, ...ID_HEADER };

  it('a 400 is application/problem+json', async () => {
    for (const route of CSV_ROUTES) {
      const response = await postJson(app(), route, { ...EXAMPLES[route], prompt_tokens: '128' }, headers);
      expectExactProblem(response, invalidRequest({ path: '/prompt_tokens', message: 'must be a number' }));
    }
  });

  it('a 422 is application/problem+json', async () => {
    const response = await postJson(app(), '/realtime-delta', { ...REALTIME_DELTA_EXAMPLE, frontier_completion_tokens: 20 }, headers);
    expectExactProblem(response, oneViolation('/frontier_completion_tokens', 'must be at least accounted_completion_tokens (24)'));
    const assignments = [{ ...CONTRIBUTION_EXAMPLE.assignments[0]!, shard_column_end: 9000 }, CONTRIBUTION_EXAMPLE.assignments[1]!];
    const contribution = await postJson(app(), '/contribution', { ...CONTRIBUTION_EXAMPLE, assignments }, headers);
    expectExactProblem(contribution, oneViolation('/assignments/0/shard_column_end', 'must be at most total_columns (8192)'));
  });

  it('a 409 is application/problem+json', async () => {
    const response = await postJson(app(), '/realtime-delta', { ...REALTIME_DELTA_EXAMPLE, frontier_completion_tokens: 300 }, headers);
    expectExactProblem(response, reservationExceeded('frontier_completion_tokens', 256, 44));
  });

  it('malformed JSON is application/problem+json', async () => {
    const response = await app().inject({ method: 'POST', url: '/contribution', payload: '{', headers: { 'content-type': 'application/json', ...headers } });
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(response.json<{ request_id: string }>().request_id).toBe(REQUEST_ID);
  });

  it('a 204 is a 204 without a body', async () => {
    const nothingNew = { ...REALTIME_DELTA_EXAMPLE, accounted_completion_tokens: REALTIME_DELTA_EXAMPLE.frontier_completion_tokens };
    const response = await postJson(app(), '/realtime-delta', nothingNew, CSV);
    expect(response.statusCode).toBe(204);
    expect(response.body).toBe('');
    expect(response.headers['content-type']).toBeUndefined();
  });
});

describe('a failure after the answer chose CSV', () => {
  // A hook that fails once the route has answered: the error handler answers through the same reply.
  const app = useApp({}, (built) => {
    built.addHook('preSerialization', async (request, reply) => {
      // Only on the answer: the problem that follows goes through the hooks too.
      if (request.headers['x-fail-after-answer'] !== undefined && reply.statusCode === 200) throw new Error('failed after the answer');
    });
  });

  it.each(CSV_ROUTES)('%s: is a bare 500 problem in JSON, not CSV', async (route) => {
    const response = await postJson(app(), route, EXAMPLES[route], { ...CSV, ...ID_HEADER, 'x-fail-after-answer': '1' });
    expectExactProblem(response, INTERNAL_ERROR);
  });
});

describe('signed CSV answers', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const app = useApp({ signing_key: privateKey });

  async function verifies(service: FastifyInstance, response: LightMyRequestResponse): Promise<boolean> {
    const { keys } = (await service.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json<{ keys: { kid: string }[] }>();
    const headers = Object.fromEntries(Object.entries(response.headers).map(([name, value]) => [name, String(value)]));
    const result = await httpbis.verifyMessage(
      {
        keyLookup: async ({ keyid }) =>
          keys.some((key) => key.kid === keyid) ? { id: keyid!, algs: ['ed25519'], verify: createVerifier(createPublicKey(publicKey.export({ format: 'pem', type: 'spki' })), 'ed25519') } : null,
        requiredFields: ['@status', 'content-type', 'content-digest', 'divy-request-digest'],
      },
      { status: response.statusCode, headers },
    );
    return result === true;
  }

  it.each(CSV_ROUTES)('%s: Content-Digest is the digest of the CSV bytes sent, and the signature verifies', async (route) => {
    const body = JSON.stringify(EXAMPLES[route]);
    const response = await app().inject({ method: 'POST', url: route, payload: body, headers: { 'content-type': 'application/json', ...CSV } });
    expectCsv(response);
    expect(response.headers['content-digest']).toBe(`sha-256=:${createHash('sha256').update(response.rawPayload).digest('base64')}:`);
    expect(response.headers['divy-request-digest']).toBe(`sha-256=:${createHash('sha256').update(body).digest('base64')}:`);
    expect(await verifies(app(), response)).toBe(true);

    // The JSON answer to the same request is other bytes under its own digest; a CSV body swapped in fails.
    const json = await app().inject({ method: 'POST', url: route, payload: body, headers: { 'content-type': 'application/json' } });
    expect(json.headers['content-digest']).not.toBe(response.headers['content-digest']);
    const swapped = { ...response, headers: { ...response.headers, 'content-type': JSON_CONTENT_TYPE } } as LightMyRequestResponse;
    expect(await verifies(app(), swapped)).toBe(false);
  });
});

describe('metrics count CSV answers as they count JSON ones', () => {
  const app = useApp();

  it('a realtime delta answered as CSV adds its burn to divy_credits_burned_total', async () => {
    expectCsv(await postJson(app(), '/realtime-delta', REALTIME_DELTA_EXAMPLE, CSV));
    const text = (await app().inject({ method: 'GET', url: '/metrics' })).body;
    expect(text.split('\n').filter((line) => line.startsWith('divy_credits_burned_total '))).toStrictEqual(['divy_credits_burned_total 16']);
    expect(text.split('\n').filter((line) => line.startsWith('divy_credits_paid_total '))).toStrictEqual(['divy_credits_paid_total 16']);
  });
});

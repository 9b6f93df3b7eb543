/**
 * Bodies built to hurt the service: lists far past their limit, schema errors by the million,
 * prototype keys, bytes that are not UTF-8, lone surrogates and numbers at the edge of JSON.
 * Each answers a bounded problem body that names the field and the rule.
 */
import { describe, expect, it } from 'vitest';
import { CONTRIBUTION_EXAMPLE, QUOTE_EXAMPLE, REALTIME_DELTA_EXAMPLE, SETTLE_EXAMPLE } from '../../src/http/schemas/examples.js';
import { DEFAULT_POLICY_SETTINGS, DEFAULT_POLICY_VERSION } from '../../src/policy/index.js';
import {
  expectExactProblem,
  ID_HEADER,
  INVALID_REQUEST,
  JSON_CONTENT_TYPE,
  oneViolation,
  postJson,
  postRaw,
  REQUEST_ID,
  RULE_VIOLATION,
  ASSIGNMENT_FIELDS,
  type ProblemBody,
  useApp,
} from '../support/http.js';


const FORBIDDEN_KEY = {
  type: 'urn:divy:problem:forbidden-key',
  title: 'Forbidden key',
  status: 400,
  detail: 'The request body holds a key that could alter object prototypes (__proto__, or constructor holding prototype); remove it.',
  request_id: REQUEST_ID,
} as const;

const INVALID_ENCODING = {
  type: 'urn:divy:problem:malformed-json',
  title: 'Malformed JSON',
  status: 400,
  detail: 'The request body is not valid UTF-8, so not valid JSON.',
  request_id: REQUEST_ID,
} as const;


/** The "is required" errors of `count` empty assignments, in the order the schema reports them. */
function missingFieldsOf(count: number): { path: string; message: string }[] {
  return Array.from({ length: count }, (_, index) =>
    ASSIGNMENT_FIELDS.map((field) => ({ path: `/assignments/${index}/${field}`, message: 'is required' })),
  ).flat();
}

/** An answer small enough that a hostile body cannot make the service write megabytes. */
const ANSWER_BYTES_MAX = 64 * 1024;

function emptyAssignments(count: number): Record<string, never>[] {
  return Array.from({ length: count }, () => ({}));
}

describe('list limits under the default policy (MAX_ASSIGNMENTS 10000)', () => {
  const app = useApp();

  it('a 1 MB body of 100000 empty assignments is refused by its length, in a small answer', async () => {
    const payload = JSON.stringify({ ...CONTRIBUTION_EXAMPLE, assignments: emptyAssignments(100_000) });
    expect(payload.length).toBeGreaterThan(300_000);
    const response = await postRaw(app(), '/contribution', payload, 'application/json', ID_HEADER);
    expect(response.body.length).toBeLessThan(ANSWER_BYTES_MAX);
    expectExactProblem(response, oneViolation('/assignments', 'must hold at most 10000 assignments'));
  });

  it('10000 empty assignments, the most the policy allows, list the first 100 of 60000 missing fields', async () => {
    const response = await postJson(app(), '/contribution', { ...CONTRIBUTION_EXAMPLE, assignments: emptyAssignments(10_000) }, ID_HEADER);
    expect(response.body.length).toBeLessThan(ANSWER_BYTES_MAX);
    expectExactProblem(response, {
      ...INVALID_REQUEST,
      detail: '60000 fields are missing, unknown or of the wrong type (the first 100 are listed).',
      errors: missingFieldsOf(17).slice(0, 100),
    });
  });

  it('150 unknown fields: the first 100 are listed, all are counted', async () => {
    const extra = Object.fromEntries(Array.from({ length: 150 }, (_, index) => [`extra_${index}`, index]));
    const response = await postJson(app(), '/quote', { ...QUOTE_EXAMPLE, ...extra }, ID_HEADER);
    expectExactProblem(response, {
      ...INVALID_REQUEST,
      detail: '150 fields are missing, unknown or of the wrong type (the first 100 are listed).',
      errors: Array.from({ length: 100 }, (_, index) => ({ path: `/extra_${index}`, message: 'is not a known field' })),
    });
  });

  it('the OpenAPI document states the assignment limit as maxItems', async () => {
    const response = await app().inject({ method: 'GET', url: '/docs/json' });
    const document = response.json<{ paths: Record<string, { post: { requestBody: { content: Record<string, { schema: { properties: Record<string, { maxItems?: number }> } }> } } }> }>();
    for (const route of ['/contribution', '/settle', '/realtime-delta']) {
      const body = document.paths[route]!.post.requestBody.content['application/json']!.schema;
      expect(body.properties['assignments']!.maxItems, route).toBe(10_000);
    }
  });
});

describe('list limits reached exactly (MAX_ASSIGNMENTS 3, BATCH_MAX_UPDATES 2)', () => {
  const app = useApp({ settings: { ...DEFAULT_POLICY_SETTINGS, max_assignments: 3 }, batch_max_updates: 2 });
  const assignment = CONTRIBUTION_EXAMPLE.assignments[0]!;
  const TOO_MANY = { path: '/assignments', message: 'must hold at most 3 assignments' };

  it.each([
    ['/contribution', CONTRIBUTION_EXAMPLE],
    ['/settle', SETTLE_EXAMPLE],
    ['/realtime-delta', REALTIME_DELTA_EXAMPLE],
  ] as const)('%s: 4 empty assignments are refused by the policy before the schema reads them', async (route, example) => {
    const response = await postJson(app(), route, { ...example, assignments: emptyAssignments(4) }, ID_HEADER);
    expectExactProblem(response, { ...RULE_VIOLATION, detail: '1 rule violation.', errors: [TOO_MANY] });
  });

  it('3 empty assignments, the limit, reach the schema', async () => {
    const response = await postJson(app(), '/contribution', { ...CONTRIBUTION_EXAMPLE, assignments: emptyAssignments(3) }, ID_HEADER);
    expectExactProblem(response, {
      ...INVALID_REQUEST,
      detail: '18 fields are missing, unknown or of the wrong type.',
      errors: missingFieldsOf(3),
    });
  });

  it('3 well-formed assignments are priced', async () => {
    const response = await postJson(app(), '/contribution', { ...CONTRIBUTION_EXAMPLE, assignments: [assignment, assignment, assignment] });
    expect(response.statusCode, response.body).toBe(200);
  });

  it('an unknown version is named beside the length, as the policy names every broken rule', async () => {
    const response = await postJson(
      app(),
      '/contribution',
      { ...CONTRIBUTION_EXAMPLE, policy_version: 'nope', assignments: emptyAssignments(4) },
      ID_HEADER,
    );
    expectExactProblem(response, {
      ...RULE_VIOLATION,
      detail: '2 rule violations.',
      errors: [{ path: '/policy_version', message: `must be one of the versions this service knows: ${DEFAULT_POLICY_VERSION}` }, TOO_MANY],
    });
  });

  it('a batch of 3 updates is refused before its envelope is parsed', async () => {
    const response = await postJson(app(), '/realtime-delta/batch', { updates: [{}, {}, {}] }, ID_HEADER);
    expectExactProblem(response, oneViolation('/updates', 'must hold at most 2 updates'));
  });

  it('an update of 4 empty assignments is refused in its result, the other answered', async () => {
    const response = await postJson(
      app(),
      '/realtime-delta/batch',
      { updates: [{ ...REALTIME_DELTA_EXAMPLE, assignments: emptyAssignments(4) }, REALTIME_DELTA_EXAMPLE] },
      ID_HEADER,
    );
    expect(response.statusCode, response.body).toBe(200);
    const { results } = response.json<{ results: { status: number; problem?: ProblemBody }[] }>();
    expect(results.map((result) => result.status)).toEqual([422, 200]);
    expect(results[0]!.problem).toStrictEqual({ ...RULE_VIOLATION, detail: '1 rule violation.', errors: [TOO_MANY] });
  });
});

describe('prototype keys', () => {
  const app = useApp();
  const quoteWith = (member: string) => `{"prompt_tokens":128,"requested_completion_tokens":256,"total_model_bytes":1,${member}}`;

  it.each([
    ['__proto__ at the top', quoteWith('"__proto__":{"polluted":1}'), '/__proto__'],
    ['__proto__ spelled in escapes', quoteWith('"\\u005f\\u005fproto__":{"polluted":1}'), '/__proto__'],
    ['constructor.prototype at the top', quoteWith('"constructor":{"prototype":{"polluted":1}}'), '/constructor/prototype'],
    [
      '__proto__ in an assignment',
      JSON.stringify({ ...CONTRIBUTION_EXAMPLE, assignments: [CONTRIBUTION_EXAMPLE.assignments[0]] }).replace('{"worker_id"', '{"__proto__":{"polluted":1},"worker_id"'),
      '/assignments/0/__proto__',
    ],
    ['constructor.prototype deep in a list', quoteWith('"a/b":[0,{"constructor":{"prototype":{"polluted":1}}}]'), '/a~1b/1/constructor/prototype'],
  ])('%s is a forbidden key, named by its path', async (_name, body, path) => {
    const response = await postRaw(app(), body.includes('assignments') ? '/contribution' : '/quote', body, 'application/json', ID_HEADER);
    expectExactProblem(response, { ...FORBIDDEN_KEY, errors: [{ path, message: 'is a forbidden key' }] });
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.getOwnPropertyNames(Object.prototype)).not.toContain('polluted');
  });

  it('a prototype key inside a batch update refuses the whole body', async () => {
    const body = `{"updates":[${JSON.stringify(REALTIME_DELTA_EXAMPLE).replace('{', '{"__proto__":{"polluted":1},')}]}`;
    const response = await postRaw(app(), '/realtime-delta/batch', body, 'application/json', ID_HEADER);
    expectExactProblem(response, { ...FORBIDDEN_KEY, errors: [{ path: '/updates/0/__proto__', message: 'is a forbidden key' }] });
    expect(Object.getOwnPropertyNames(Object.prototype)).not.toContain('polluted');
  });

  it('a constructor key without prototype is only an unknown field', async () => {
    const response = await postRaw(app(), '/quote', quoteWith('"constructor":{"name":1}'), 'application/json', ID_HEADER);
    expectExactProblem(response, {
      ...INVALID_REQUEST,
      detail: '1 field is missing, unknown or of the wrong type.',
      errors: [{ path: '/constructor', message: 'is not a known field' }],
    });
  });
});

describe('text encoding', () => {
  const app = useApp();
  const postBytes = (url: string, bytes: Buffer) =>
    app().inject({ method: 'POST', url, payload: bytes, headers: { 'content-type': 'application/json', ...ID_HEADER } });
  const withWorkerId = (worker_id: string) => ({ ...CONTRIBUTION_EXAMPLE, assignments: [{ ...CONTRIBUTION_EXAMPLE.assignments[0]!, worker_id }] });

  it.each([
    ['a stray continuation byte', [0x80]],
    ['a byte that never starts UTF-8', [0xff]],
    ['an overlong encoding of "/"', [0xc0, 0xaf]],
    ['an encoded surrogate', [0xed, 0xa0, 0x80]],
    ['a truncated sequence', [0xe2, 0x82]],
  ])('%s in a string is refused, not replaced by U+FFFD', async (_name, bytes) => {
    const [before, after] = JSON.stringify(withWorkerId('XX')).split('XX');
    const response = await postBytes('/contribution', Buffer.concat([Buffer.from(before!), Buffer.from(bytes), Buffer.from(after!)]));
    expectExactProblem(response, INVALID_ENCODING);
  });

  it('a worker id of accented letters and an emoji is accepted and echoed unchanged', async () => {
    const response = await postJson(app(), '/contribution', withWorkerId('gpu-é-😀'));
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['content-type']).toBe(JSON_CONTENT_TYPE);
    expect(response.json<{ assignments: { worker_id: string }[] }>().assignments[0]!.worker_id).toBe('gpu-é-😀');
  });

  it('an escaped surrogate pair is one character, and accepted', async () => {
    const body = JSON.stringify(withWorkerId('W')).replace('"W"', '"\\ud83d\\ude00"');
    const response = await postRaw(app(), '/contribution', body, 'application/json');
    expect(response.statusCode, response.body).toBe(200);
  });

  it.each([
    ['worker_id', '/contribution', JSON.stringify(withWorkerId('LONE')), '/assignments/0/worker_id'],
    ['job_id', '/realtime-delta', JSON.stringify({ ...REALTIME_DELTA_EXAMPLE, job_id: 'LONE' }), '/job_id'],
    ['policy_version', '/quote', JSON.stringify({ ...QUOTE_EXAMPLE, policy_version: 'LONE' }), '/policy_version'],
    ['budget_credits', '/quote', JSON.stringify({ ...QUOTE_EXAMPLE, budget_credits: 'LONE' }), '/budget_credits'],
  ])('a lone surrogate in %s is a rule violation', async (_field, route, json, path) => {
    for (const lone of ['\\ud800', 'a\\udfff', '\\ude00\\ud83d']) {
      const response = await postRaw(app(), route, json.replace('LONE', lone), 'application/json', ID_HEADER);
      expectExactProblem(response, { ...RULE_VIOLATION, detail: '1 rule violation.', errors: [{ path, message: 'must be well-formed Unicode' }] });
    }
  });
});

describe('numbers at the edge of JSON', () => {
  const app = useApp();
  /** A contribution whose first assignment's `field` is the JSON literal `literal`, exactly as written. */
  const contributionWith = (field: string, literal: string) =>
    JSON.stringify({ ...CONTRIBUTION_EXAMPLE, assignments: [{ ...CONTRIBUTION_EXAMPLE.assignments[0]!, [field]: 'LITERAL' }] }).replace(
      '"LITERAL"',
      literal,
    );

  it.each([
    ['execution_time_ms', '9007199254740992', 'must be an integer from 0 to 9007199254740991'],
    ['available_memory_bytes', '18446744073709551615', 'must be an integer from 1 to 9007199254740991'],
    ['shard_column_start', '0.5', 'must be an integer from 0 to 4294967294'],
    ['assigned_capacity_units', '4294967296', 'must be an integer from 1 to 4294967295'],
    ['assigned_capacity_units', '-1', 'must be an integer from 1 to 4294967295'],
  ])('%s = %s is a rule violation', async (field, literal, message) => {
    const response = await postRaw(app(), '/contribution', contributionWith(field, literal), 'application/json', ID_HEADER);
    expectExactProblem(response, { ...RULE_VIOLATION, detail: '1 rule violation.', errors: [{ path: `/assignments/0/${field}`, message }] });
  });

  it.each([
    ['execution_time_ms', '1e400', 'must be a number (finite)'],
    ['available_memory_bytes', '-1e400', 'must be a number (finite)'],
    ['shard_column_end', '"4096"', 'must be a number'],
    ['execution_time_ms', 'null', 'must be a number'],
  ])('%s = %s does not match the schema', async (field, literal, message) => {
    const response = await postRaw(app(), '/contribution', contributionWith(field, literal), 'application/json', ID_HEADER);
    expectExactProblem(response, {
      ...INVALID_REQUEST,
      detail: '1 field is missing, unknown or of the wrong type.',
      errors: [{ path: `/assignments/0/${field}`, message }],
    });
  });
});

/** Every reference vector of the original model, through HTTP. */
import { describe, expect, it } from 'vitest';
import { expectProblem, JSON_CONTENT_TYPE, postJson, ROUTE_OF_KIND, useApp } from '../support/http.js';
import { loadVectors, mismatches, VECTORS_PRESENT, type ReferenceVector } from '../support/vectors.js';

const vectors = loadVectors();
const valid = vectors.filter((vector) => vector.class === 'valid');
const edge = vectors.filter((vector) => vector.class === 'edge');

describe.skipIf(!VECTORS_PRESENT)('reference vectors over HTTP', () => {
  const app = useApp();

  function post(vector: ReferenceVector) {
    return postJson(app(), ROUTE_OF_KIND[vector.kind], vector.input);
  }

  it('the vector files hold valid and edge cases of every kind', () => {
    expect(vectors.length).toBe(610);
    for (const kind of Object.keys(ROUTE_OF_KIND)) {
      expect(valid.some((vector) => vector.kind === kind), `valid ${kind}`).toBe(true);
    }
    expect(edge.length).toBeGreaterThan(0);
  });

  it('valid vectors: 200 with the reference result (204 where it is null)', async () => {
    const failures: string[] = [];
    for (const vector of valid) {
      const response = await post(vector);
      if (vector.expected === null) {
        if (response.statusCode !== 204 || response.body !== '') failures.push(`${vector.id}: expected 204, got ${response.statusCode} ${response.body}`);
        continue;
      }
      if (response.statusCode !== 200) {
        failures.push(`${vector.id}: expected 200, got ${response.statusCode} ${response.body}`);
        continue;
      }
      expect(response.headers['content-type']).toBe(JSON_CONTENT_TYPE);
      failures.push(...mismatches(vector.expected, response.json()).map((mismatch) => `${vector.id}: ${mismatch}`));
    }
    expect(failures).toEqual([]);
  });

  it('edge vectors: a 4xx problem, or exactly the reference result; never a 5xx', async () => {
    const failures: string[] = [];
    const outcomes = { rejected: 0, matched: 0 };
    for (const vector of edge) {
      const response = await post(vector);
      const status = response.statusCode;
      if (status === 400 || status === 422) {
        const problem = expectProblem(response, status);
        expect(problem.errors?.length, vector.id).toBeGreaterThan(0);
        outcomes.rejected += 1;
      } else if (status === 200 && vector.expected !== null) {
        failures.push(...mismatches(vector.expected, response.json()).map((mismatch) => `${vector.id}: ${mismatch}`));
        outcomes.matched += 1;
      } else if (status === 204 && vector.expected === null) {
        expect(response.body).toBe('');
        outcomes.matched += 1;
      } else {
        failures.push(`${vector.id}: unexpected ${status} ${response.body}`);
      }
    }
    expect(failures).toEqual([]);
    expect(outcomes.rejected + outcomes.matched).toBe(edge.length);
  });
});

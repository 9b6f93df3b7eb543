/**
 * Reads the reference vectors of the original model from ../shared/vectors/, beside the project
 * root. They are not copied into the repository; where the folder is absent, callers skip.
 */
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

export type VectorKind = 'quote' | 'settle' | 'contribution' | 'realtime_delta';

export interface ReferenceVector {
  readonly id: string;
  readonly kind: VectorKind;
  readonly class: 'valid' | 'edge';
  readonly input: Record<string, unknown>;
  readonly expected: Record<string, unknown> | null;
}

export const VECTORS_DIR = fileURLToPath(new URL('../../../shared/vectors/', import.meta.url));
export const VECTORS_PRESENT = existsSync(VECTORS_DIR);

if (!VECTORS_PRESENT) {
  console.warn(`NOTICE: reference vectors not found at ${VECTORS_DIR}; the parity tests are skipped.`);
}

function parseLines(text: string): ReferenceVector[] {
  return text
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .map((line) => JSON.parse(line) as ReferenceVector);
}

export function loadVectors(): ReferenceVector[] {
  if (!VECTORS_PRESENT) return [];
  const named = parseLines(readFileSync(`${VECTORS_DIR}named.jsonl`, 'utf8'));
  const seeded = parseLines(gunzipSync(readFileSync(`${VECTORS_DIR}seed-parity.jsonl.gz`)).toString('utf8'));
  return [...named, ...seeded];
}

const INTEGER_FIELDS = new Set(['prompt_tokens_delta', 'completion_tokens_delta', 'frontier_completion_tokens']);

/**
 * Lists where `actual` departs from the reference `expected` under the vectors' tolerance:
 * |a - e| <= 1e-8 + 1e-9 |e| for numbers and decimal strings; exact for integer counters and ids.
 * Every expected field must be present; extra actual fields are allowed.
 */
export function mismatches(expected: unknown, actual: unknown, path = ''): string[] {
  if (expected === null || typeof expected !== 'object') return compareLeaf(expected, actual, path);
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return [`${path}: expected a list of ${expected.length}`];
    return expected.flatMap((item, index) => mismatches(item, actual[index], `${path}/${index}`));
  }
  if (actual === null || typeof actual !== 'object') return [`${path}: expected an object, got ${JSON.stringify(actual)}`];
  return Object.entries(expected).flatMap(([key, value]) =>
    mismatches(value, (actual as Record<string, unknown>)[key], `${path}/${key}`),
  );
}

function compareLeaf(expected: unknown, actual: unknown, path: string): string[] {
  const field = path.slice(path.lastIndexOf('/') + 1);
  if (typeof expected !== 'number' || INTEGER_FIELDS.has(field)) {
    return expected === actual ? [] : [`${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`];
  }
  const value = typeof actual === 'string' ? Number(actual) : actual;
  if (typeof value !== 'number' || !Number.isFinite(value)) return [`${path}: expected a number, got ${JSON.stringify(actual)}`];
  const within = Math.abs(value - expected) <= 1e-8 + 1e-9 * Math.abs(expected);
  return within ? [] : [`${path}: expected ${expected}, got ${JSON.stringify(actual)}`];
}

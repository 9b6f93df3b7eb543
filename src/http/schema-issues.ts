/**
 * Rewrites zod's issues as `{ path, message }` in the policy's wording ("must be ..."), so a
 * client reads one vocabulary whether a field has the wrong type or breaks a rule.
 */
import type { ZodFastifySchemaValidationError } from 'fastify-type-provider-zod';

export interface FieldError {
  readonly path: string;
  readonly message: string;
}

const TYPE_NAMES: Readonly<Record<string, string>> = {
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  array: 'a list',
  object: 'an object',
};

export function describeSchemaIssues(issues: readonly ZodFastifySchemaValidationError[], body: unknown): FieldError[] {
  return issues.flatMap((issue) => describeIssue(issue, body));
}

function describeIssue(issue: ZodFastifySchemaValidationError, body: unknown): FieldError[] {
  const path = issue.instancePath === '/' ? '' : issue.instancePath;
  const params = issue.params as { expected?: string; keys?: string[] };
  if (issue.keyword === 'unrecognized_keys') {
    return (params.keys ?? []).map((key) => ({ path: `${path}/${escapePointer(key)}`, message: 'is not a known field' }));
  }
  if (issue.keyword === 'invalid_type') {
    const value = valueAt(body, path);
    if (value === undefined) return [{ path, message: 'is required' }];
    const wanted = TYPE_NAMES[params.expected ?? ''] ?? params.expected ?? 'of another type';
    const finite = typeof value === 'number' && params.expected === 'number' ? ' (finite)' : '';
    return [{ path, message: `must be ${wanted}${finite}` }];
  }
  return [{ path, message: issue.message ?? 'is invalid' }];
}

/** Follows a JSON Pointer built from zod's path into the parsed body. */
function valueAt(body: unknown, pointer: string): unknown {
  if (pointer === '') return body;
  let current: unknown = body;
  for (const segment of pointer.slice(1).split('/')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[unescapePointer(segment)];
  }
  return current;
}

function escapePointer(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1');
}

function unescapePointer(segment: string): string {
  return segment.replaceAll('~1', '/').replaceAll('~0', '~');
}

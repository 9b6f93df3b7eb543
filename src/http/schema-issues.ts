/**
 * Rewrites zod's issues as `{ path, message }` in the policy's wording ("must be ..."), so a
 * client reads one vocabulary whether a field has the wrong type or breaks a rule.
 */
import type { ZodFastifySchemaValidationError } from 'fastify-type-provider-zod';
import type { z } from 'zod';

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

/** The fields of a validation error that the descriptions read. */
type SchemaIssue = Pick<ZodFastifySchemaValidationError, 'keyword' | 'instancePath' | 'message' | 'params'>;

/** The issues of a body that the route's schema refused (the 400 handler's case). */
export function describeSchemaIssues(issues: readonly SchemaIssue[], body: unknown): FieldError[] {
  return issues.flatMap((issue) => describeIssue(issue, body));
}

/**
 * The issues of a value parsed by hand with a request schema, described exactly as the 400
 * handler describes the same value sent as a whole body.
 */
export function describeZodIssues(issues: readonly z.core.$ZodIssue[], body: unknown): FieldError[] {
  return describeSchemaIssues(issues.map(asValidationIssue), body);
}

/**
 * A zod issue as fastify-type-provider-zod's validator reports it (its `createValidationError`,
 * which the package does not export): the path joined unescaped, every other field as params.
 */
function asValidationIssue(issue: z.core.$ZodIssue): SchemaIssue {
  const { path, code, message, ...params } = issue;
  return { keyword: code, instancePath: `/${path.join('/')}`, message, params };
}

function describeIssue(issue: SchemaIssue, body: unknown): FieldError[] {
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

/**
 * Rewrites zod's issues as `{ path, message }` in the policy's wording ("must be ..."), so a
 * client reads one vocabulary whether a field has the wrong type or breaks a rule.
 */
import type { ZodFastifySchemaValidationError } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import { VIOLATIONS_LISTED_MAX } from '../policy/index.js';

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

/** The first field errors of a refused body, and how many there are in all. */
export interface DescribedIssues {
  /** At most VIOLATIONS_LISTED_MAX, as a 422 lists: the first ones are enough to fix the body. */
  readonly errors: FieldError[];
  readonly count: number;
}

/**
 * The issues of a body that the route's schema refused (the 400 handler's case). Issues past
 * the listed ones are only counted: a body built to fail everywhere costs no description each.
 */
export function describeSchemaIssues(issues: readonly SchemaIssue[], body: unknown): DescribedIssues {
  const errors: FieldError[] = [];
  let count = 0;
  for (const issue of issues) {
    count += fieldCountOf(issue);
    const room = VIOLATIONS_LISTED_MAX - errors.length;
    if (room > 0) errors.push(...describeIssue(issue, body, room));
  }
  return { errors, count };
}

/**
 * The issues of a value parsed by hand with a request schema, described exactly as the 400
 * handler describes the same value sent as a whole body.
 */
export function describeZodIssues(issues: readonly z.core.$ZodIssue[], body: unknown): DescribedIssues {
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

/** The field errors one issue stands for: one per unknown key, else one. */
function fieldCountOf(issue: SchemaIssue): number {
  return issue.keyword === 'unrecognized_keys' ? ((issue.params as { keys?: string[] }).keys ?? []).length : 1;
}

/** At most `room` field errors of one issue. */
function describeIssue(issue: SchemaIssue, body: unknown, room: number): FieldError[] {
  const path = issue.instancePath === '/' ? '' : issue.instancePath;
  const params = issue.params as { expected?: string; keys?: string[] };
  if (issue.keyword === 'unrecognized_keys') {
    return (params.keys ?? []).slice(0, room).map((key) => ({ path: `${path}/${escapePointer(key)}`, message: 'is not a known field' }));
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

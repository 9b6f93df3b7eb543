import { PolicyInputError, type PolicyViolation } from './errors.js';
import {
  BYTE_COUNT_MAX,
  TOKEN_COUNT_MAX,
  WORKER_ID_LENGTH_MAX,
  WORKER_ID_LENGTH_MIN,
} from './limits.js';
import type { WorkerAssignment } from './types.js';

/** A bad job can break a rule in every one of its assignments; the first ones are enough to fix it. */
export const VIOLATIONS_LISTED_MAX = 100;

/** Collects broken rules so that one rejection names every offending field at once. */
export class RuleCheck {
  private readonly violations: PolicyViolation[] = [];
  private violationCount = 0;

  fail(path: string, message: string): void {
    this.violationCount += 1;
    if (this.violations.length < VIOLATIONS_LISTED_MAX) this.violations.push({ path, message });
  }

  get passed(): boolean {
    return this.violationCount === 0;
  }

  /** Checks an integer in [min, max]; true when the value obeys. */
  integer(path: string, value: unknown, min: number, max: number): value is number {
    if (isIntegerIn(value, min, max)) return true;
    this.fail(path, integerRule(min, max));
    return false;
  }

  tokenCount(path: string, value: unknown): value is number {
    return this.integer(path, value, 0, TOKEN_COUNT_MAX);
  }

  byteCount(path: string, value: unknown, min = 0): value is number {
    return this.integer(path, value, min, BYTE_COUNT_MAX);
  }

  boolean(path: string, value: unknown): value is boolean {
    if (typeof value === 'boolean') return true;
    this.fail(path, 'must be true or false');
    return false;
  }

  /** Throws the collected violations, if any. */
  conclude(): void {
    if (this.violationCount > 0) throw new PolicyInputError(this.violations, this.violationCount);
  }
}

export function isIntegerIn(value: unknown, min: number, max: number): value is number {
  return Number.isInteger(value) && (value as number) >= min && (value as number) <= max;
}

function integerRule(min: number, max: number): string {
  return `must be an integer from ${min} to ${max}`;
}

/** The tokens one request prices must fit the 32-bit counters the ledger keeps. */
export function checkRequestTokens(check: RuleCheck, path: string, names: string, tokens: number): void {
  if (tokens > TOKEN_COUNT_MAX) check.fail(path, `${names} must be at most ${TOKEN_COUNT_MAX}`);
}

export function checkTotalColumns(check: RuleCheck, total_columns: unknown): total_columns is number {
  return check.integer('/total_columns', total_columns, 1, TOKEN_COUNT_MAX);
}

/**
 * Checks the assignments of a job. `budget_to_split` says whether the job has credits to pay
 * out: only then is an empty list an error. Shards may overlap, since replicated work is allowed.
 */
export function checkAssignments(
  check: RuleCheck,
  assignments: readonly WorkerAssignment[],
  total_columns: number | undefined,
  max_assignments: number,
  budget_to_split: boolean,
): void {
  if (!Array.isArray(assignments)) {
    check.fail('/assignments', 'must be a list of worker assignments');
    return;
  }
  if (budget_to_split && assignments.length === 0) {
    check.fail('/assignments', 'must hold at least one assignment to split the credits among');
  }
  if (assignments.length > max_assignments) {
    check.fail('/assignments', `must hold at most ${max_assignments} assignments`);
    return;
  }
  for (let index = 0; index < assignments.length; index += 1) {
    checkAssignment(check, index, assignments[index]!, total_columns);
  }
}

/** Field paths are built only for a broken rule: a large job is checked without a string per field. */
function checkAssignment(
  check: RuleCheck,
  index: number,
  assignment: WorkerAssignment,
  total_columns: number | undefined,
): void {
  if (!isWorkerId(assignment.worker_id)) check.fail(assignmentPath(index, 'worker_id'), WORKER_ID_RULE);
  checkAssignmentInteger(check, index, 'execution_time_ms', assignment.execution_time_ms, 0, BYTE_COUNT_MAX);
  checkAssignmentInteger(check, index, 'assigned_capacity_units', assignment.assigned_capacity_units, 1, BYTE_COUNT_MAX);
  checkAssignmentInteger(check, index, 'available_memory_bytes', assignment.available_memory_bytes, 1, BYTE_COUNT_MAX);
  const start = assignment.shard_column_start;
  const end = assignment.shard_column_end;
  const startValid = checkAssignmentInteger(check, index, 'shard_column_start', start, 0, TOKEN_COUNT_MAX);
  const endValid = checkAssignmentInteger(check, index, 'shard_column_end', end, 0, TOKEN_COUNT_MAX);
  if (!startValid || !endValid) return;
  if (end <= start) {
    check.fail(assignmentPath(index, 'shard_column_end'), `must be greater than shard_column_start (${start})`);
  } else if (total_columns !== undefined && end > total_columns) {
    check.fail(assignmentPath(index, 'shard_column_end'), `must be at most total_columns (${total_columns})`);
  }
}

/** RuleCheck.integer for an assignment field, with the path built only on failure. */
function checkAssignmentInteger(
  check: RuleCheck,
  index: number,
  field: keyof WorkerAssignment,
  value: unknown,
  min: number,
  max: number,
): boolean {
  if (isIntegerIn(value, min, max)) return true;
  check.fail(assignmentPath(index, field), integerRule(min, max));
  return false;
}

function assignmentPath(index: number, field: string): string {
  return `/assignments/${index}/${field}`;
}

const WORKER_ID_RULE = `must be a string of ${WORKER_ID_LENGTH_MIN} to ${WORKER_ID_LENGTH_MAX} characters`;

/** Counted in Unicode code points, the characters a person sees; the UTF-16 length bounds it from above. */
function isWorkerId(worker_id: unknown): boolean {
  if (typeof worker_id !== 'string' || worker_id.length < WORKER_ID_LENGTH_MIN) return false;
  return worker_id.length <= WORKER_ID_LENGTH_MAX || codePointCount(worker_id) <= WORKER_ID_LENGTH_MAX;
}

function codePointCount(text: string): number {
  let count = 0;
  for (const _ of text) count += 1;
  return count;
}

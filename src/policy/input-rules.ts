import { PolicyInputError, type PolicyViolation } from './errors.js';
import { INPUT_RANGES, isInRange, rangeRule, REQUEST_TOKENS_MAX, WORKER_ID_LENGTH, type RangedField } from './input-ranges.js';
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

  /** Checks an integer within the range of `field`; true when the value obeys. */
  field(path: string, value: unknown, field: RangedField): value is number {
    const range = INPUT_RANGES[field];
    if (isInRange(value, range)) return true;
    this.fail(path, rangeRule(range));
    return false;
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

/** The tokens one request prices must fit the model's 32-bit counters. */
export function checkRequestTokens(check: RuleCheck, path: string, names: string, tokens: number): void {
  if (tokens > REQUEST_TOKENS_MAX) check.fail(path, `${names} must be at most ${REQUEST_TOKENS_MAX}`);
}

export function checkTotalColumns(check: RuleCheck, total_columns: unknown): total_columns is number {
  return check.field('/total_columns', total_columns, 'total_columns');
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
  checkAssignmentField(check, index, 'execution_time_ms', assignment.execution_time_ms);
  checkAssignmentField(check, index, 'assigned_capacity_units', assignment.assigned_capacity_units);
  checkAssignmentField(check, index, 'available_memory_bytes', assignment.available_memory_bytes);
  const start = assignment.shard_column_start;
  const end = assignment.shard_column_end;
  const startValid = checkAssignmentField(check, index, 'shard_column_start', start);
  const endValid = checkAssignmentField(check, index, 'shard_column_end', end);
  if (!startValid || !endValid) return;
  if (end <= start) {
    check.fail(assignmentPath(index, 'shard_column_end'), `must be greater than shard_column_start (${start})`);
  } else if (total_columns !== undefined && end > total_columns) {
    check.fail(assignmentPath(index, 'shard_column_end'), `must be at most total_columns (${total_columns})`);
  }
}

/** RuleCheck.field for an assignment field, with the path built only on failure. */
function checkAssignmentField(check: RuleCheck, index: number, field: RangedField & keyof WorkerAssignment, value: unknown): boolean {
  const range = INPUT_RANGES[field];
  if (isInRange(value, range)) return true;
  check.fail(assignmentPath(index, field), rangeRule(range));
  return false;
}

function assignmentPath(index: number, field: string): string {
  return `/assignments/${index}/${field}`;
}

const WORKER_ID_RULE = `must be a string of ${WORKER_ID_LENGTH.min} to ${WORKER_ID_LENGTH.max} characters`;

/** Counted in Unicode code points, the characters a person sees; the UTF-16 length bounds it from above. */
function isWorkerId(worker_id: unknown): boolean {
  if (typeof worker_id !== 'string' || worker_id.length < WORKER_ID_LENGTH.min) return false;
  return worker_id.length <= WORKER_ID_LENGTH.max || codePointCount(worker_id) <= WORKER_ID_LENGTH.max;
}

function codePointCount(text: string): number {
  let count = 0;
  for (const _ of text) count += 1;
  return count;
}

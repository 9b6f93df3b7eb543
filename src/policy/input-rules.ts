import { PolicyInputError, type PolicyViolation } from './errors.js';
import { parseCreditAmount, creditAmountRule } from './credit-units.js';
import {
  INPUT_RANGES,
  isInRange,
  isWellFormedText,
  JOB_ID_LENGTH,
  rangeRule,
  REQUEST_TOKENS_MAX,
  WELL_FORMED_RULE,
  WORKER_ID_LENGTH,
  type IntegerRange,
  type RangedField,
} from './input-ranges.js';
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

  /** Checks a well-formed string whose length in code points lies in `range`. */
  text(path: string, value: unknown, range: IntegerRange): value is string {
    const rule = textRuleBroken(value, range);
    if (rule === undefined) return true;
    this.fail(path, rule);
    return false;
  }

  /** Parses a credit amount at `credit_scale`; undefined (and a violation) when it is not one. */
  creditAmount(path: string, value: unknown, credit_scale: number): bigint | undefined {
    // Named for what is wrong: a lone surrogate is no decimal string, but "must be digits" would mislead.
    if (typeof value === 'string' && !isWellFormedText(value)) {
      this.fail(path, WELL_FORMED_RULE);
      return undefined;
    }
    const units = parseCreditAmount(value, credit_scale);
    if (units === undefined) this.fail(path, creditAmountRule(credit_scale));
    return units;
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

/** An optional job id names the job's accounts in ledger postings. */
export function checkJobId(check: RuleCheck, job_id: unknown): void {
  if (job_id !== undefined) check.text('/job_id', job_id, JOB_ID_LENGTH);
}

/** An optional reservation is a token count that, with the prompt, one request could price. */
export function checkReserved(check: RuleCheck, prompt_tokens: number, promptValid: boolean, reserved: unknown): void {
  if (reserved === undefined) return;
  if (check.field('/reserved_completion_tokens', reserved, 'reserved_completion_tokens') && promptValid) {
    checkRequestTokens(check, '/reserved_completion_tokens', 'prompt_tokens + reserved_completion_tokens', prompt_tokens + reserved);
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
    check.fail('/assignments', assignmentCountRule(max_assignments));
    return;
  }
  for (let index = 0; index < assignments.length; index += 1) {
    checkAssignment(check, index, assignments[index]!, total_columns);
  }
}

/** The rule of a list of assignments longer than the policy allows, in the words every answer uses. */
export function assignmentCountRule(max_assignments: number): string {
  return `must hold at most ${max_assignments} assignments`;
}

/** Field paths are built only for a broken rule: a large job is checked without a string per field. */
function checkAssignment(
  check: RuleCheck,
  index: number,
  assignment: WorkerAssignment,
  total_columns: number | undefined,
): void {
  const workerIdRule = textRuleBroken(assignment.worker_id, WORKER_ID_LENGTH);
  if (workerIdRule !== undefined) check.fail(assignmentPath(index, 'worker_id'), workerIdRule);
  // Each range is read here by its name: looked up by a name passed down, it cost more than the checks.
  checkAssignmentField(check, index, 'execution_time_ms', INPUT_RANGES.execution_time_ms, assignment.execution_time_ms);
  checkAssignmentField(check, index, 'assigned_capacity_units', INPUT_RANGES.assigned_capacity_units, assignment.assigned_capacity_units);
  checkAssignmentField(check, index, 'available_memory_bytes', INPUT_RANGES.available_memory_bytes, assignment.available_memory_bytes);
  const start = assignment.shard_column_start;
  const end = assignment.shard_column_end;
  const startValid = checkAssignmentField(check, index, 'shard_column_start', INPUT_RANGES.shard_column_start, start);
  const endValid = checkAssignmentField(check, index, 'shard_column_end', INPUT_RANGES.shard_column_end, end);
  if (!startValid || !endValid) return;
  if (end <= start) {
    check.fail(assignmentPath(index, 'shard_column_end'), `must be greater than shard_column_start (${start})`);
  } else if (total_columns !== undefined && end > total_columns) {
    check.fail(assignmentPath(index, 'shard_column_end'), `must be at most total_columns (${total_columns})`);
  }
}

/** RuleCheck.field for an assignment field, with the path built only on failure. */
function checkAssignmentField<Field extends RangedField & keyof WorkerAssignment>(
  check: RuleCheck,
  index: number,
  field: Field,
  range: (typeof INPUT_RANGES)[Field],
  value: unknown,
): boolean {
  if (isInRange(value, range)) return true;
  check.fail(assignmentPath(index, field), rangeRule(range));
  return false;
}

function assignmentPath(index: number, field: string): string {
  return `/assignments/${index}/${field}`;
}

function textRule(range: IntegerRange): string {
  return `must be a string of ${range.min} to ${range.max} characters`;
}

/** The rule `text` breaks, if any: its length first, then whether it is well-formed Unicode. */
function textRuleBroken(text: unknown, range: IntegerRange): string | undefined {
  if (!isTextOfLength(text, range)) return textRule(range);
  return isWellFormedText(text) ? undefined : WELL_FORMED_RULE;
}

/** Counted in Unicode code points, the characters a person sees; the UTF-16 length bounds it from above. */
function isTextOfLength(text: unknown, range: IntegerRange): text is string {
  if (typeof text !== 'string' || text.length < range.min) return false;
  return text.length <= range.max || codePointCount(text) <= range.max;
}

function codePointCount(text: string): number {
  let count = 0;
  for (const _ of text) count += 1;
  return count;
}

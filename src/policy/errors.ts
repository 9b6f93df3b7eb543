/** One broken input rule: `path` is a JSON Pointer to the field, `message` states the rule. */
export interface PolicyViolation {
  readonly path: string;
  readonly message: string;
}

/** Thrown when an input breaks a rule of the policy; lists every offending field. */
export class PolicyInputError extends Error {
  override readonly name = 'PolicyInputError';
  /** The first violations found (a bounded list). */
  readonly violations: readonly PolicyViolation[];
  /** How many violations were found in all, listed or not. */
  readonly violation_count: number;

  constructor(violations: readonly PolicyViolation[], violation_count = violations.length) {
    super(`invalid policy input: ${describe(violations, violation_count)}`);
    this.violations = violations;
    this.violation_count = violation_count;
  }
}

const VIOLATIONS_IN_MESSAGE_MAX = 5;

function describe(violations: readonly PolicyViolation[], violation_count: number): string {
  const shown = violations
    .slice(0, VIOLATIONS_IN_MESSAGE_MAX)
    .map((violation) => `${violation.path} ${violation.message}`);
  const hidden = violation_count - shown.length;
  return hidden > 0 ? `${shown.join('; ')}; and ${hidden} more` : shown.join('; ');
}

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

/**
 * Thrown when a job would consume more completion tokens than its reservation was quoted for:
 * the input is well formed, but the burn it asks for is not covered.
 */
export class ReservationExceededError extends Error {
  override readonly name = 'ReservationExceededError';

  constructor(
    /** JSON Pointer to the count that goes past the reservation. */
    readonly path: string,
    readonly reserved_completion_tokens: number,
    /** How many tokens past the reservation the count goes. */
    readonly excess_tokens: number,
  ) {
    super(
      `${path.slice(1)} goes ${excess_tokens} ${excess_tokens === 1 ? 'token' : 'tokens'} past reserved_completion_tokens (${reserved_completion_tokens})`,
    );
  }
}

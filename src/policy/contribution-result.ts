/**
 * A contribution whose per-worker objects are built on first read of `assignments`. To its
 * readers it is a plain object: `assignments` is an own enumerable property, so property access,
 * JSON.stringify, spreading, structured cloning and deep equality all see the full array. A
 * caller that writes the results out from the columns (`workerCreditColumnsOf`) never pays for
 * one object per worker.
 */
import type { Contribution, WorkerCredit } from './types.js';
import { workerCreditsOf, type WorkerCreditColumns } from './worker-credit-columns.js';

const COLUMNS = Symbol('worker credit columns');
/** Node's util.inspect hook, named by a registered symbol so that this module stays free of I/O imports. */
const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/**
 * The descriptors are shared, not closures: objects given the same accessor pair share one hidden
 * class, so building a small result costs a few hundred nanoseconds rather than microseconds.
 */
const LAZY_ASSIGNMENTS: PropertyDescriptor = { enumerable: true, configurable: true, get: buildAssignments, set: replaceAssignments };
const INSPECT_AS_PLAIN_OBJECT: PropertyDescriptor = { value: inspectAsPlainObject };

export function contributionOf(policy_version: string, job_credit_budget: string, columns: WorkerCreditColumns): Contribution {
  const contribution = { policy_version, job_credit_budget };
  Object.defineProperty(contribution, 'assignments', LAZY_ASSIGNMENTS);
  Object.defineProperty(contribution, COLUMNS, { value: columns, writable: true });
  Object.defineProperty(contribution, INSPECT, INSPECT_AS_PLAIN_OBJECT);
  return contribution as Contribution;
}

/**
 * The columns behind a contribution this module built, while its `assignments` have been neither
 * built nor replaced; undefined otherwise, and for any other object. A writer that gets columns
 * can trust them to say exactly what `assignments` would.
 */
export function workerCreditColumnsOf(contribution: Contribution): WorkerCreditColumns | undefined {
  return (contribution as { [COLUMNS]?: WorkerCreditColumns })[COLUMNS];
}

function buildAssignments(this: Contribution): WorkerCredit[] {
  const assignments = workerCreditsOf(workerCreditColumnsOf(this)!);
  // A frozen or sealed contribution keeps its accessor, and each read builds a fresh array.
  keepAssignments(this, assignments);
  return assignments;
}

function replaceAssignments(this: Contribution, assignments: WorkerCredit[]): void {
  if (!keepAssignments(this, assignments)) throw new TypeError("Cannot assign to read only property 'assignments' of a frozen contribution");
}

/**
 * Replaces the lazy accessor with an ordinary data property holding the array, and lets go of
 * the columns: from now on the array, which its holder may change, is the truth. False when the
 * contribution is frozen or sealed and the accessor must stay.
 */
function keepAssignments(contribution: Contribution, assignments: WorkerCredit[]): boolean {
  const kept = Reflect.defineProperty(contribution, 'assignments', { value: assignments, enumerable: true, configurable: true, writable: true });
  if (kept) (contribution as { [COLUMNS]?: WorkerCreditColumns | undefined })[COLUMNS] = undefined;
  return kept;
}

/** Shows the built array instead of `[Getter/Setter]` when the object is logged. */
function inspectAsPlainObject(this: Contribution): object {
  return { ...this };
}

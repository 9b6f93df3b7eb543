/**
 * Valid requests of every accounting route, for properties over what the service answers: jobs
 * from the policy tests' generators, named by ids a caller may send (quotes, backslashes, control
 * and non-ASCII characters, astral ones, up to the longest allowed), with each optional field
 * present or absent. Requests never hold an undefined value: they are what JSON.parse gives.
 */
import fc from 'fast-check';
import { CREDIT_AMOUNT_WHOLE_DIGITS_MAX, DEFAULT_POLICY_SETTINGS, JOB_ID_LENGTH, UINT32_MAX, WORKER_ID_LENGTH, type WorkerAssignment } from '../../src/policy/index.js';
import { assignmentsIn, modelBytes, type JobShape } from '../policy/jobs.js';

/** Characters a JSON writer escapes or passes through with care: `"`, `\`, controls, line separators, surrogate pairs. */
const TRICKY_CHARACTERS = ['"', '\\', '\u0000', '\b', '\n', '\t', '\u001f', '\u007f', '\u2028', '\u2029', 'é', '€', '😀', '𝄞', '/', '<'];

/** Ids of 1 to `max` code points, mostly short, at times long enough for every path of a string writer. */
export function oddIds(max: number): fc.Arbitrary<string> {
  const character = fc.oneof(fc.constantFrom(...TRICKY_CHARACTERS), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }), fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }));
  return fc.oneof(
    { arbitrary: fc.string({ unit: character, minLength: 1, maxLength: 12 }), weight: 4 },
    { arbitrary: fc.string({ unit: character, minLength: 40, maxLength: max }), weight: 1 },
    { arbitrary: fc.constantFrom('w', 'x'.repeat(max), '😀'.repeat(max)), weight: 1 },
  );
}

export const workerIds = oddIds(WORKER_ID_LENGTH.max);
export const jobIds = oddIds(JOB_ID_LENGTH.max);

/** The current policy named, or left to the default. */
const policyVersion = fc.option(fc.constant(DEFAULT_POLICY_SETTINGS.parameters.version), { nil: undefined });
const tokens = fc.integer({ min: 0, max: 1_000_000 });

/** `assignments` renamed by ids drawn anew (duplicates allowed: ids need not be unique). */
function renamed(assignments: readonly WorkerAssignment[]): fc.Arbitrary<WorkerAssignment[]> {
  return fc.array(workerIds, { minLength: assignments.length, maxLength: assignments.length }).map((ids) => assignments.map((item, index) => ({ ...item, worker_id: ids[index]! })));
}

export interface WorkerCount {
  readonly minAssignments?: number;
  readonly maxAssignments?: number;
}

/** Job shapes as the policy tests draw them (columns mostly up to 1e6, at times up to 2^32 - 1), with odd worker ids. */
export function namedJobShapes(options: WorkerCount = {}): fc.Arbitrary<JobShape> {
  const columns = fc.oneof({ arbitrary: fc.integer({ min: 1, max: 1_000_000 }), weight: 4 }, { arbitrary: fc.integer({ min: 1, max: UINT32_MAX }), weight: 1 });
  return fc
    .record({ total_model_bytes: modelBytes, total_columns: columns })
    .chain((job) =>
      assignmentsIn(job.total_columns, { minLength: options.minAssignments ?? 1, maxLength: options.maxAssignments ?? 40 })
        .chain(renamed)
        .map((assignments) => ({ ...job, assignments })),
    );
}

/** A copy without the keys whose value is undefined, as a body parsed from JSON is. */
export function present<Value extends object>(value: Value): Value {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as Value;
}

/** Budgets up to the longest whole part allowed, with 0 to 9 fraction digits. */
const budgetCredits = fc
  .tuple(fc.oneof(fc.nat({ max: 1000 }).map(String), fc.stringMatching(new RegExp(`^[1-9][0-9]{0,${CREDIT_AMOUNT_WHOLE_DIGITS_MAX - 1}}$`))), fc.stringMatching(/^[0-9]{0,9}$/))
  .map(([whole, fraction]) => (fraction === '' ? whole : `${whole}.${fraction}`));

export const quoteRequests = fc
  .record({
    prompt_tokens: tokens,
    requested_completion_tokens: tokens,
    total_model_bytes: modelBytes,
    budget_credits: fc.option(budgetCredits, { nil: undefined }),
    policy_version: policyVersion,
  })
  .map(present);

/** At least one token in all: a job of none has nothing to split. */
export function contributionRequests(options: WorkerCount = {}) {
  return fc
    .tuple(namedJobShapes(options), tokens, tokens, policyVersion)
    .map(([shape, prompt_tokens, completion_tokens, policy_version]) =>
      present({ ...shape, prompt_tokens, completion_tokens: prompt_tokens + completion_tokens === 0 ? 1 : completion_tokens, policy_version }),
    );
}

/** Realtime deltas within their reservation, if any: a 200 answer, or a 204 when nothing is new. */
export function realtimeDeltaRequests(options: WorkerCount = {}) {
  return fc
    .record({
      shape: namedJobShapes(options),
      prompt_tokens: tokens,
      accounted: tokens,
      added: fc.oneof(fc.constant(0), tokens),
      prompt_credits_accounted: fc.boolean(),
      reserve_beyond: fc.option(tokens, { nil: undefined }),
      job_id: fc.option(jobIds, { nil: undefined }),
      policy_version: policyVersion,
    })
    .map(({ shape, accounted, added, reserve_beyond, ...rest }) =>
      present({
        ...shape,
        ...rest,
        accounted_completion_tokens: accounted,
        frontier_completion_tokens: accounted + added,
        reserved_completion_tokens: reserve_beyond === undefined ? undefined : accounted + added + reserve_beyond,
      }),
    );
}

/**
 * Settlements with and without a reservation, what the stream burned, assignments and a job id.
 * Without assignments nothing is left to pay: the stream burned everything, or there is no reservation.
 */
export function settleRequests(options: WorkerCount = {}) {
  const streamed = fc.record({ reserve_beyond: tokens, accounted_short: fc.option(tokens, { nil: undefined }), prompt_credits_accounted: fc.option(fc.boolean(), { nil: undefined }) });
  return fc
    .record({
      prompt_tokens: tokens,
      actual_completion_tokens: tokens,
      total_model_bytes: modelBytes,
      shape: fc.option(namedJobShapes(options), { nil: undefined }),
      stream: fc.option(streamed, { nil: undefined }),
      job_id: fc.option(jobIds, { nil: undefined }),
      policy_version: policyVersion,
    })
    .map(({ shape, stream, ...rest }) => {
      const reserved = stream === undefined ? {} : { reserved_completion_tokens: rest.actual_completion_tokens + stream.reserve_beyond };
      const burned =
        stream === undefined ? {} : shape === undefined ? { accounted_completion_tokens: rest.actual_completion_tokens, prompt_credits_accounted: true } : {
              accounted_completion_tokens: stream.accounted_short === undefined ? undefined : Math.max(0, rest.actual_completion_tokens - stream.accounted_short),
              prompt_credits_accounted: stream.prompt_credits_accounted,
            };
      const workers = shape === undefined ? {} : { total_columns: shape.total_columns, assignments: shape.assignments };
      return present({ ...rest, ...reserved, ...burned, ...workers });
    });
}

const FORBIDDEN_KEY = /"(__proto__|constructor)":/;

/** Updates of a batch: deltas (200 or 204), and updates refused with a 400, 409 or 422. */
export function batchUpdates(options: { maxUpdates?: number } = {}): fc.Arbitrary<unknown[]> {
  const deltas = realtimeDeltaRequests({ maxAssignments: 6 });
  const refused = fc.oneof(
    // Without keys that could rewrite prototypes: a body holding one anywhere is refused whole
    // (src/http/json-body.ts), so the batch would not be answered update by update.
    fc.jsonValue().filter((value) => !FORBIDDEN_KEY.test(JSON.stringify(value))),
    deltas.map((update) => ({ ...update, reserved_completion_tokens: 0, frontier_completion_tokens: update.frontier_completion_tokens + 1 })),
    deltas.map((update) => ({ ...update, total_columns: 0 })),
    deltas.map((update) => ({ ...update, job_id: '' })),
  );
  return fc.array(fc.oneof({ arbitrary: deltas, weight: 3 }, { arbitrary: refused, weight: 1 }), { maxLength: options.maxUpdates ?? 12 });
}

/**
 * A job's whole life at the policy level: the quote and what a budget affords, the stream of
 * realtime deltas bounded by the reservation, the settlement that reconciles against it, the
 * ledger postings of every step, and a job pinned to the policy version it was quoted under.
 * Every amount is checked in integer credit units against the decimal oracle of
 * test/support/credits.ts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  catalogOf,
  computeContribution,
  computeRealtimeDelta,
  CREDIT_AMOUNT_WHOLE_DIGITS_MAX,
  DEFAULT_POLICY_PARAMETERS,
  DEFAULT_POLICY_SETTINGS,
  POLICY_VERSION_PATH,
  PolicyInputError,
  priceByVersion,
  quoteConsumption,
  ReservationExceededError,
  settingsFor,
  settleConsumption,
  UINT32_MAX,
  type PolicyParameters,
  type PolicySettings,
  type Posting,
  type RealtimeDelta,
  type RealtimeDeltaInput,
  type SettleInput,
} from '../../src/policy/index.js';
import { VIOLATIONS_LISTED_MAX } from '../../src/policy/input-rules.js';
import { creditPattern, creditUnits, oracleFormat, oracleTokenUnits, sumCreditUnits } from '../support/credits.js';
import { assignment, expectSoundSplit, GIB, jobShapes, modelBytes, rejection, type JobShape } from './jobs.js';

// ---------------------------------------------------------------------------------------------
// Settings, prices and generators

/** The default policy at another credit scale and, as a new version, another model size scale. */
function settingsWith(credit_scale: number, model_size_scale_gib = DEFAULT_POLICY_PARAMETERS.model_size_scale_gib): PolicySettings {
  const parameters: PolicyParameters =
    model_size_scale_gib === DEFAULT_POLICY_PARAMETERS.model_size_scale_gib
      ? DEFAULT_POLICY_PARAMETERS
      : { ...DEFAULT_POLICY_PARAMETERS, version: `divy-credit-1-scale-${model_size_scale_gib}`, model_size_scale_gib };
  return { ...DEFAULT_POLICY_SETTINGS, credit_scale, parameters };
}

/** Whole credits at scale 0 (zero payouts are common), the default 9, and 18 digits on a 1 MiB scale. */
const SETTINGS = [settingsWith(9), settingsWith(0), settingsWith(18, 1 / 1024), settingsWith(2, 1)] as const;
const settingsArb = fc.constantFrom(...SETTINGS);

/** C(n) in credit units under `settings`, by the decimal oracle. */
function price(tokens: number, total_model_bytes: number, settings: PolicySettings): bigint {
  return oracleTokenUnits(tokens, total_model_bytes, {
    credit_scale: settings.credit_scale,
    model_size_scale_gib: settings.parameters.model_size_scale_gib,
  });
}

function unitsOf(amount: string, settings: PolicySettings): bigint {
  return creditUnits(amount, settings.credit_scale);
}

/** Token counts: small ones often, and the whole u32 range. */
const tokens = fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 0, max: UINT32_MAX }));

/** Job ids, including ones that look like account names or JSON. */
const jobIds = fc.oneof(
  fc.constantFrom('job-42', 'a', 'job:1:reservation', '"],["', 'ünï-cødé', 'x'.repeat(128)),
  fc.string({ minLength: 1, maxLength: 24 }),
);

/** Three counts a <= b <= c, often equal or a token apart. */
const gap = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3 }), tokens);
const orderedTriple = fc.tuple(tokens, gap, gap).map(([low, first, second]): [number, number, number] => {
  const middle = Math.min(low + first, UINT32_MAX);
  return [low, middle, Math.min(middle + second, UINT32_MAX)];
});

/** Runs `call`, demands a ReservationExceededError, and returns it for inspection. */
function exceeded(call: () => unknown): ReservationExceededError {
  let caught: unknown;
  try {
    call();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ReservationExceededError);
  return caught as ReservationExceededError;
}

function expectExcess(error: ReservationExceededError, path: string, reserved: number, excess: number): void {
  expect(error.path).toBe(path);
  expect(error.reserved_completion_tokens).toBe(reserved);
  expect(error.excess_tokens).toBe(excess);
  expect(error.message).toBe(`${path.slice(1)} goes ${excess} ${excess === 1 ? 'token' : 'tokens'} past reserved_completion_tokens (${reserved})`);
}

const ID_PATTERN = /^[0-9a-f]{32}$/;

/** Every posting is a positive transfer out of the job's reservation, with a well-formed id. */
function expectPostingsShape(postings: readonly Posting[], job_id: string, settings: PolicySettings): void {
  for (const posting of postings) {
    expect(posting.id).toMatch(ID_PATTERN);
    expect(posting.debit_account).toBe(`job:${job_id}:reservation`);
    expect(posting.amount).toMatch(creditPattern(settings.credit_scale));
    expect(unitsOf(posting.amount, settings)).toBeGreaterThan(0n);
  }
  expect(new Set(postings.map((posting) => posting.id)).size).toBe(postings.length);
}

/** The payouts a split must produce: one per worker with non-zero credits, in input order. */
function expectedPayouts(job_id: string, workers: readonly { worker_id: string; credits: string }[], settings: PolicySettings) {
  return workers
    .filter((worker) => unitsOf(worker.credits, settings) > 0n)
    .map((worker) => ({ kind: 'payout', debit_account: `job:${job_id}:reservation`, credit_account: `worker:${worker.worker_id}`, amount: worker.credits }));
}

function withoutIds(postings: readonly Posting[]) {
  return postings.map(({ kind, debit_account, credit_account, amount }) => ({ kind, debit_account, credit_account, amount }));
}

// ---------------------------------------------------------------------------------------------
// A job's life: a reservation, frontiers as the coordinator sees them, the actual count

interface Life {
  readonly settings: PolicySettings;
  readonly shape: JobShape;
  readonly job_id: string;
  readonly prompt_tokens: number;
  readonly reserved: number;
  /** The frontiers the coordinator reports, in order: never falling, never past `reserved`. */
  readonly frontiers: readonly number[];
  /** What the job produced in the end: at least the last frontier, at most `reserved`. */
  readonly actual: number;
}

function lives(settings: fc.Arbitrary<PolicySettings> = settingsArb): fc.Arbitrary<Life> {
  const step = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: UINT32_MAX }));
  return fc
    .record({
      settings,
      shape: jobShapes({ maxAssignments: 6 }),
      job_id: jobIds,
      prompt: tokens,
      reserved: fc.oneof(fc.integer({ min: 0, max: 400 }), tokens),
      steps: fc.array(step, { maxLength: 12 }),
      tail: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 100 })),
    })
    .map(({ settings: chosen, shape, job_id, prompt, reserved, steps, tail }) => {
      let frontier = 0;
      const frontiers = steps.map((advance) => (frontier = Math.min(frontier + advance, reserved)));
      return {
        settings: chosen,
        shape,
        job_id,
        prompt_tokens: Math.min(prompt, UINT32_MAX - reserved),
        reserved,
        frontiers,
        actual: Math.min(frontier + tail, reserved),
      };
    });
}

interface Stream {
  readonly deltas: RealtimeDelta[];
  readonly accounted: number;
  readonly prompt_credits_accounted: boolean;
}

function deltaInput(life: Life, accounted: number, prompt_credits_accounted: boolean, frontier: number): RealtimeDeltaInput {
  return {
    prompt_tokens: life.prompt_tokens,
    frontier_completion_tokens: frontier,
    accounted_completion_tokens: accounted,
    prompt_credits_accounted,
    ...life.shape,
    reserved_completion_tokens: life.reserved,
    job_id: life.job_id,
  };
}

/** The coordinator: one delta per reported frontier from its accounted state, which moves on each answer. */
function runStream(life: Life, settingsAt: (step: number) => PolicySettings = () => life.settings): Stream {
  const deltas: RealtimeDelta[] = [];
  let accounted = 0;
  let prompt_credits_accounted = false;
  life.frontiers.forEach((frontier, step) => {
    const delta = computeRealtimeDelta(deltaInput(life, accounted, prompt_credits_accounted, frontier), settingsAt(step));
    if (delta === null) {
      expect(frontier).toBe(accounted);
      return;
    }
    deltas.push(delta);
    accounted = frontier;
    prompt_credits_accounted = true;
  });
  return { deltas, accounted, prompt_credits_accounted };
}

function settleInput(life: Life, stream: Pick<Stream, 'accounted' | 'prompt_credits_accounted'>): SettleInput {
  return {
    prompt_tokens: life.prompt_tokens,
    actual_completion_tokens: life.actual,
    total_model_bytes: life.shape.total_model_bytes,
    reserved_completion_tokens: life.reserved,
    accounted_completion_tokens: stream.accounted,
    prompt_credits_accounted: stream.prompt_credits_accounted,
    total_columns: life.shape.total_columns,
    assignments: life.shape.assignments,
    job_id: life.job_id,
  };
}

// ---------------------------------------------------------------------------------------------
// Quote: what a budget affords

/** The rule a bad budget breaks, written out independently of the code. */
function budgetRule(scale: number): string {
  return `must be a decimal string of credits: up to 24 digits, then at most ${scale} fraction digits`;
}

/** Units written as a budget in one of the accepted forms: all fraction digits, trailing zeros cut, or leading zeros. */
function budgetText(units: bigint, scale: number, form: 'full' | 'trimmed' | 'padded'): string {
  const full = oracleFormat(units, scale);
  if (form === 'full') return full;
  if (form === 'trimmed') return full.includes('.') ? full.replace(/0+$/, '').replace(/\.$/, '') : full;
  const whole = full.split('.')[0]!;
  return whole.length < CREDIT_AMOUNT_WHOLE_DIGITS_MAX ? `0${full}` : full;
}

describe('quote: what a budget affords', () => {
  const README_QUOTE = { prompt_tokens: 128, requested_completion_tokens: 256, total_model_bytes: 64 * GIB };

  it('affords 222 tokens on 700 credits in the README example, and 0 when the prompt alone does not fit', () => {
    // The prompt costs 256 credits at factor 2: 444 credits are left, 2 credits a token.
    expect(quoteConsumption({ ...README_QUOTE, budget_credits: '700' })).toStrictEqual({
      policy_version: 'divy-credit-1',
      model_size_factor: 2,
      prompt_credits: '256.000000000',
      completion_credits: '512.000000000',
      total_credits: '768.000000000',
      max_affordable_completion_tokens: 222,
    });
    expect(quoteConsumption({ ...README_QUOTE, budget_credits: '699.999999999' }).max_affordable_completion_tokens).toBe(221);
    expect(quoteConsumption({ ...README_QUOTE, budget_credits: '257.999999999' }).max_affordable_completion_tokens).toBe(0);
    expect(quoteConsumption({ ...README_QUOTE, budget_credits: '258' }).max_affordable_completion_tokens).toBe(1);
    expect(quoteConsumption({ ...README_QUOTE, budget_credits: '256' }).max_affordable_completion_tokens).toBe(0);
    expect(quoteConsumption({ ...README_QUOTE, budget_credits: '255.999999999' }).max_affordable_completion_tokens).toBe(0);
    expect(quoteConsumption({ ...README_QUOTE, budget_credits: '0' }).max_affordable_completion_tokens).toBe(0);
  });

  it('affords at most 2^32 - 1 - prompt_tokens, however large the budget', () => {
    const budget = '9'.repeat(24);
    expect(quoteConsumption({ ...README_QUOTE, budget_credits: budget }).max_affordable_completion_tokens).toBe(UINT32_MAX - 128);
    expect(quoteConsumption({ ...README_QUOTE, prompt_tokens: UINT32_MAX, requested_completion_tokens: 0, budget_credits: budget }).max_affordable_completion_tokens).toBe(0);
  });

  it('affords the largest c with C(p) + C(c) <= budget, and nothing when the prompt alone does not fit', () => {
    const budgetSpec = fc.oneof(
      // Right at, just below and just above the quote of some completion count.
      fc.record({ kind: fc.constant('near' as const), completion: tokens, offset: fc.integer({ min: -2, max: 2 }) }),
      fc.record({ kind: fc.constant('raw' as const), units: fc.oneof(fc.bigInt({ min: 0n, max: 10n ** 15n }), fc.bigInt({ min: 0n, max: 10n ** 42n })) }),
    );
    fc.assert(
      fc.property(
        settingsArb,
        modelBytes,
        tokens,
        tokens,
        budgetSpec,
        fc.constantFrom('full' as const, 'trimmed' as const, 'padded' as const),
        (settings, total_model_bytes, prompt, requested, spec, form) => {
          const scale = settings.credit_scale;
          const prompt_tokens = Math.min(prompt, UINT32_MAX);
          const requested_completion_tokens = Math.min(requested, UINT32_MAX - prompt_tokens);
          const promptUnits = price(prompt_tokens, total_model_bytes, settings);
          const budgetMax = 10n ** BigInt(CREDIT_AMOUNT_WHOLE_DIGITS_MAX + scale) - 1n;
          let budget =
            spec.kind === 'raw'
              ? spec.units
              : promptUnits + price(Math.min(spec.completion, UINT32_MAX - prompt_tokens), total_model_bytes, settings) + BigInt(spec.offset);
          budget = budget < 0n ? 0n : budget > budgetMax ? budgetMax : budget;
          const input = { prompt_tokens, requested_completion_tokens, total_model_bytes };
          const quote = quoteConsumption({ ...input, budget_credits: budgetText(budget, scale, form) }, settings);
          const { max_affordable_completion_tokens: affordable, ...consumption } = quote;
          // The budget changes nothing else in the quote.
          expect(consumption).toStrictEqual(quoteConsumption(input, settings));
          expect(Number.isInteger(affordable)).toBe(true);
          const count = affordable!;
          expect(count).toBeGreaterThanOrEqual(0);
          expect(count).toBeLessThanOrEqual(UINT32_MAX - prompt_tokens);
          if (promptUnits > budget) {
            expect(count).toBe(0);
            return;
          }
          expect(promptUnits + price(count, total_model_bytes, settings)).toBeLessThanOrEqual(budget);
          if (count < UINT32_MAX - prompt_tokens) {
            expect(promptUnits + price(count + 1, total_model_bytes, settings)).toBeGreaterThan(budget);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses a budget with more fraction digits than the credit scale at /budget_credits', () => {
    fc.assert(
      fc.property(
        settingsArb,
        fc.stringMatching(/^[0-9]{1,24}$/),
        fc.integer({ min: 1, max: 6 }),
        fc.stringMatching(/^[0-9]{30}$/),
        (settings, whole, extra, digits) => {
          const fraction = digits.slice(0, settings.credit_scale + extra);
          const error = rejection(() => quoteConsumption({ ...README_QUOTE, budget_credits: `${whole}.${fraction}` }, settings));
          expect(error.violations).toStrictEqual([{ path: '/budget_credits', message: budgetRule(settings.credit_scale) }]);
          expect(error.violation_count).toBe(1);
          // Exactly credit_scale fraction digits are fine (none at all at credit_scale 0, where a bare point is not).
          const kept = fraction.slice(0, settings.credit_scale);
          const accepted = quoteConsumption({ ...README_QUOTE, budget_credits: kept === '' ? whole : `${whole}.${kept}` }, settings);
          expect(accepted.max_affordable_completion_tokens).toBeGreaterThanOrEqual(0);
        },
      ),
    );
  });

  it('refuses a budget that is not digits with an optional fraction, or not a string', () => {
    const tricky = fc.constantFrom('', '.', '1.', '.5', '-1', '+1', '1e3', ' 1', '1 ', '1,5', '0x10', '١٢', 'NaN', 'Infinity', '1.2.3', '1_000', '1.0\n', '１');
    const anyText = fc.string({ unit: 'binary', maxLength: 30 }).filter((text) => !/^[0-9]+(\.[0-9]+)?$/.test(text));
    fc.assert(
      fc.property(settingsArb, fc.oneof(tricky, anyText), (settings, budget) => {
        const error = rejection(() => quoteConsumption({ ...README_QUOTE, budget_credits: budget }, settings));
        expect(error.violations).toStrictEqual([{ path: '/budget_credits', message: budgetRule(settings.credit_scale) }]);
      }),
    );
    for (const budget of [700, null, true, ['700'], { credits: '700' }]) {
      const error = rejection(() => quoteConsumption({ ...README_QUOTE, budget_credits: budget as unknown as string }));
      expect(error.violations).toStrictEqual([{ path: '/budget_credits', message: budgetRule(9) }]);
    }
  });

  it('refuses more than 24 whole digits, counting leading zeros, and accepts 24', () => {
    expect(CREDIT_AMOUNT_WHOLE_DIGITS_MAX).toBe(24);
    fc.assert(
      fc.property(settingsArb, fc.stringMatching(/^[0-9]{25,40}$/), fc.boolean(), (settings, whole, withFraction) => {
        const budget = withFraction && settings.credit_scale > 0 ? `${whole}.5` : whole;
        const error = rejection(() => quoteConsumption({ ...README_QUOTE, budget_credits: budget }, settings));
        expect(error.violations).toStrictEqual([{ path: '/budget_credits', message: budgetRule(settings.credit_scale) }]);
        const fits = quoteConsumption({ ...README_QUOTE, budget_credits: whole.slice(-24) }, settings);
        expect(fits.max_affordable_completion_tokens).toBeGreaterThanOrEqual(0);
      }),
    );
    expect(quoteConsumption({ ...README_QUOTE, budget_credits: `${'0'.repeat(21)}700` }).max_affordable_completion_tokens).toBe(222);
    expect(rejection(() => quoteConsumption({ ...README_QUOTE, budget_credits: `${'0'.repeat(22)}700` })).violations).toStrictEqual([
      { path: '/budget_credits', message: budgetRule(9) },
    ]);
  });

  it('names a bad budget together with every other broken rule', () => {
    const error = rejection(() => quoteConsumption({ ...README_QUOTE, prompt_tokens: -1, budget_credits: '1.0000000001' }));
    expect(error.violations).toStrictEqual([
      { path: '/prompt_tokens', message: 'must be an integer from 0 to 4294967295' },
      { path: '/budget_credits', message: budgetRule(9) },
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// Realtime deltas against the reservation

describe('realtime delta: the reservation as the stream burns it', () => {
  it('reports burned + remaining = reserved, burned = C(p) + C(frontier), and changes nothing else', () => {
    fc.assert(
      fc.property(settingsArb, jobShapes({ maxAssignments: 6 }), tokens, orderedTriple, fc.boolean(), (settings, shape, prompt, [accounted, frontier, reserved], flag) => {
        const prompt_tokens = Math.min(prompt, UINT32_MAX - reserved);
        const base: RealtimeDeltaInput = {
          ...shape,
          prompt_tokens,
          accounted_completion_tokens: accounted,
          frontier_completion_tokens: frontier,
          prompt_credits_accounted: flag,
        };
        const delta = computeRealtimeDelta({ ...base, reserved_completion_tokens: reserved }, settings);
        const plain = computeRealtimeDelta(base, settings);
        if (frontier === accounted && (flag || prompt_tokens === 0)) {
          expect(delta).toBeNull();
          expect(plain).toBeNull();
          return;
        }
        const { reservation, ...rest } = delta!;
        expect(rest).toStrictEqual(plain);
        const bytes = shape.total_model_bytes;
        const reservedUnits = price(prompt_tokens, bytes, settings) + price(reserved, bytes, settings);
        const burnedUnits = price(prompt_tokens, bytes, settings) + price(frontier, bytes, settings);
        expect(unitsOf(reservation!.reserved_credits, settings)).toBe(reservedUnits);
        expect(unitsOf(reservation!.burned_credits, settings)).toBe(burnedUnits);
        expect(unitsOf(reservation!.remaining_credits, settings)).toBe(reservedUnits - burnedUnits);
        expect(unitsOf(reservation!.burned_credits, settings) + unitsOf(reservation!.remaining_credits, settings)).toBe(
          unitsOf(reservation!.reserved_credits, settings),
        );
      }),
    );
  });

  it('refuses a frontier past the reservation with the exact excess, whatever else the counters say', () => {
    fc.assert(
      fc.property(
        settingsArb,
        jobShapes({ maxAssignments: 3 }),
        tokens,
        tokens,
        fc.oneof(fc.integer({ min: 1, max: 3 }), tokens),
        fc.nat(),
        fc.boolean(),
        (settings, shape, prompt, reservedDrawn, excessDrawn, accountedSeed, flag) => {
          const reserved = Math.min(reservedDrawn, UINT32_MAX - 1);
          const excess = Math.max(1, Math.min(excessDrawn, UINT32_MAX - reserved));
          const frontier = reserved + excess;
          const prompt_tokens = Math.min(prompt, UINT32_MAX - frontier);
          const input: RealtimeDeltaInput = {
            ...shape,
            prompt_tokens,
            frontier_completion_tokens: frontier,
            accounted_completion_tokens: accountedSeed % (frontier + 1),
            prompt_credits_accounted: flag,
            reserved_completion_tokens: reserved,
            job_id: 'job-42',
          };
          expectExcess(
            exceeded(() => computeRealtimeDelta(input, settings)),
            '/frontier_completion_tokens',
            reserved,
            excess,
          );
        },
      ),
    );
  });

  it('refuses 1 token past the README reservation in the words of the error', () => {
    const shape = readmeShape();
    const input = { ...shape, prompt_tokens: 128, frontier_completion_tokens: 257, accounted_completion_tokens: 256, prompt_credits_accounted: true };
    const error = exceeded(() => computeRealtimeDelta({ ...input, reserved_completion_tokens: 256 }));
    expect(error.message).toBe('frontier_completion_tokens goes 1 token past reserved_completion_tokens (256)');
    expect(computeRealtimeDelta({ ...input, frontier_completion_tokens: 256, accounted_completion_tokens: 255, reserved_completion_tokens: 256 })!.reservation).toStrictEqual({
      reserved_credits: '768.000000000',
      burned_credits: '768.000000000',
      remaining_credits: '0.000000000',
    });
  });

  it('a whole stream never goes past the reservation, burns exactly what it reports, and ends at the settlement\'s release', () => {
    fc.assert(
      fc.property(lives(), (life) => {
        const { settings } = life;
        const stream = runStream(life);
        const bytes = life.shape.total_model_bytes;
        const reservedUnits = price(life.prompt_tokens, bytes, settings) + price(life.reserved, bytes, settings);
        let burnedSoFar = 0n;
        for (const delta of stream.deltas) {
          burnedSoFar += unitsOf(delta.consumption.total_credits, settings);
          const reservation = delta.reservation!;
          expect(unitsOf(reservation.reserved_credits, settings)).toBe(reservedUnits);
          expect(unitsOf(reservation.burned_credits, settings)).toBe(burnedSoFar);
          expect(unitsOf(reservation.remaining_credits, settings)).toBe(reservedUnits - burnedSoFar);
          expect(burnedSoFar).toBeLessThanOrEqual(reservedUnits);
        }
        const settlement = settleConsumption(settleInput(life, stream), settings);
        const reconciliation = settlement.reconciliation!;
        const lastRemaining = stream.deltas.length === 0 ? reservedUnits : unitsOf(stream.deltas.at(-1)!.reservation!.remaining_credits, settings);
        expect(unitsOf(reconciliation.streamed_credits, settings)).toBe(burnedSoFar);
        expect(unitsOf(reconciliation.final_delta_credits, settings) + unitsOf(reconciliation.release_credits, settings)).toBe(lastRemaining);
        if (life.actual === stream.accounted && (stream.prompt_credits_accounted || life.prompt_tokens === 0)) {
          expect(reconciliation.final_delta_credits).toBe(oracleFormat(0n, settings.credit_scale));
          expect(unitsOf(reconciliation.release_credits, settings)).toBe(lastRemaining);
        }
        // Deltas and the final delta add up to the settlement: the stream telescopes.
        expect(burnedSoFar + unitsOf(reconciliation.final_delta_credits, settings)).toBe(unitsOf(settlement.total_credits, settings));
      }),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Settlement against the reservation

function readmeShape(): JobShape {
  return {
    total_model_bytes: 64 * GIB,
    total_columns: 8192,
    assignments: [
      assignment('fast-metal', { execution_time_ms: 300, assigned_capacity_units: 8, shard_column_start: 0, shard_column_end: 4096, available_memory_bytes: 24 * GIB }),
      assignment('slow-cpu', { execution_time_ms: 900, assigned_capacity_units: 4, shard_column_start: 4096, shard_column_end: 8192, available_memory_bytes: 16 * GIB }),
    ],
  };
}

/** A settlement against a reservation: prompt, accounted <= actual <= reserved, the prompt flag. */
const settleCases = fc
  .record({ settings: settingsArb, shape: jobShapes({ maxAssignments: 6 }), prompt: tokens, counts: orderedTriple, flag: fc.boolean(), job_id: jobIds })
  .map(({ settings, shape, prompt, counts: [accounted, actual, reserved], flag, job_id }) => ({
    settings,
    shape,
    job_id,
    input: {
      prompt_tokens: Math.min(prompt, UINT32_MAX - reserved),
      actual_completion_tokens: actual,
      total_model_bytes: shape.total_model_bytes,
      reserved_completion_tokens: reserved,
      accounted_completion_tokens: accounted,
      prompt_credits_accounted: flag,
    } satisfies SettleInput,
  }));
type SettleCase = typeof settleCases extends fc.Arbitrary<infer T> ? T : never;

/** A case's settle request with its workers and job id. */
function settleRequest({ shape, job_id, input }: SettleCase): SettleInput {
  return { ...input, total_columns: shape.total_columns, assignments: shape.assignments, job_id };
}

/** The realtime delta over a case's final counters, from accounted to actual, without a job id: what its settlement burns last. */
function finalDeltaRequest({ shape, input }: SettleCase): RealtimeDeltaInput {
  return {
    ...shape,
    prompt_tokens: input.prompt_tokens,
    accounted_completion_tokens: input.accounted_completion_tokens,
    frontier_completion_tokens: input.actual_completion_tokens,
    prompt_credits_accounted: input.prompt_credits_accounted,
    reserved_completion_tokens: input.reserved_completion_tokens,
  };
}

describe('settle: reconciliation against the reservation', () => {
  it('settles the README example: 20 tokens left to burn, 76 to release', () => {
    const settlement = settleConsumption({
      prompt_tokens: 128,
      actual_completion_tokens: 180,
      reserved_completion_tokens: 256,
      accounted_completion_tokens: 160,
      prompt_credits_accounted: true,
      ...readmeShape(),
    });
    expect(settlement.reconciliation).toStrictEqual({
      reserved_credits: '768.000000000',
      streamed_credits: '576.000000000',
      final_delta_credits: '40.000000000',
      release_credits: '152.000000000',
    });
    expect(settlement.total_credits).toBe('616.000000000');
    expect(sumCreditUnits(settlement.contribution!.assignments.map((item) => item.credits))).toBe(40_000_000_000n);
  });

  it('streamed + final_delta = total and total + release = reserved, to the unit, each as the oracle prices it', () => {
    fc.assert(
      fc.property(settleCases, ({ settings, shape, input }) => {
        const settlement = settleConsumption({ ...input, total_columns: shape.total_columns, assignments: shape.assignments }, settings);
        const reconciliation = settlement.reconciliation!;
        const bytes = input.total_model_bytes;
        const promptUnits = price(input.prompt_tokens, bytes, settings);
        const total = unitsOf(settlement.total_credits, settings);
        const streamed = unitsOf(reconciliation.streamed_credits, settings);
        const finalDelta = unitsOf(reconciliation.final_delta_credits, settings);
        const release = unitsOf(reconciliation.release_credits, settings);
        const reserved = unitsOf(reconciliation.reserved_credits, settings);
        expect(total).toBe(promptUnits + price(input.actual_completion_tokens, bytes, settings));
        expect(reserved).toBe(promptUnits + price(input.reserved_completion_tokens, bytes, settings));
        expect(streamed).toBe((input.prompt_credits_accounted ? promptUnits : 0n) + price(input.accounted_completion_tokens, bytes, settings));
        expect(streamed + finalDelta).toBe(total);
        expect(total + release).toBe(reserved);
        // The final delta is split among the workers, exactly; nothing to split, no contribution.
        if (finalDelta === 0n) {
          expect(settlement).not.toHaveProperty('contribution');
        } else {
          expectSoundSplit(shape, settlement.contribution!, finalDelta, settings.credit_scale, settings.parameters);
          expect(sumCreditUnits(settlement.contribution!.assignments.map((item) => item.credits), settings.credit_scale)).toBe(finalDelta);
        }
      }),
    );
  });

  it('refuses a non-zero final delta without workers at /assignments, naming the amount', () => {
    fc.assert(
      fc.property(settleCases, fc.integer({ min: 1, max: 1000 }), fc.boolean(), ({ settings, shape, input }, more, emptyList) => {
        // At least one more token than the stream accounted: the final delta is not zero.
        const reserved = Math.min(input.reserved_completion_tokens + more, UINT32_MAX - input.prompt_tokens);
        const actual = Math.min(input.actual_completion_tokens + more, reserved);
        fc.pre(actual > input.accounted_completion_tokens);
        const withoutWorkers: SettleInput = {
          ...input,
          reserved_completion_tokens: reserved,
          actual_completion_tokens: actual,
          ...(emptyList ? { total_columns: shape.total_columns, assignments: [] } : {}),
        };
        const bytes = input.total_model_bytes;
        const streamed = (input.prompt_credits_accounted ? price(input.prompt_tokens, bytes, settings) : 0n) + price(input.accounted_completion_tokens, bytes, settings);
        const finalDelta = price(input.prompt_tokens, bytes, settings) + price(actual, bytes, settings) - streamed;
        const error = rejection(() => settleConsumption(withoutWorkers, settings));
        expect(error.violations).toStrictEqual([
          {
            path: '/assignments',
            message: `must hold at least one assignment: the final delta of ${oracleFormat(finalDelta, settings.credit_scale)} credits is paid to the workers`,
          },
        ]);
      }),
    );
  });

  it('needs no workers when the stream burned everything, nor without a reservation', () => {
    const base = { prompt_tokens: 128, actual_completion_tokens: 180, total_model_bytes: 64 * GIB };
    const done = settleConsumption({ ...base, reserved_completion_tokens: 256, accounted_completion_tokens: 180, prompt_credits_accounted: true, job_id: 'job-42' });
    expect(done.reconciliation).toStrictEqual({
      reserved_credits: '768.000000000',
      streamed_credits: '616.000000000',
      final_delta_credits: '0.000000000',
      release_credits: '152.000000000',
    });
    expect(done).not.toHaveProperty('contribution');
    expect(withoutIds(done.postings!)).toStrictEqual([{ kind: 'release', debit_account: 'job:job-42:reservation', credit_account: 'job:job-42:submitter', amount: '152.000000000' }]);
    expect(settleConsumption(base)).toStrictEqual({
      policy_version: 'divy-credit-1',
      model_size_factor: 2,
      prompt_credits: '256.000000000',
      completion_credits: '360.000000000',
      total_credits: '616.000000000',
    });
    expect(rejection(() => settleConsumption({ ...base, accounted_completion_tokens: 10 })).violations).toStrictEqual([
      {
        path: '/reserved_completion_tokens',
        message: 'is required with accounted_completion_tokens or prompt_credits_accounted: the stream is reconciled against the reservation',
      },
    ]);
  });

  it('refuses accounted > actual at /accounted_completion_tokens', () => {
    fc.assert(
      fc.property(settleCases, fc.integer({ min: 1, max: 1000 }), ({ settings, shape, input }, more) => {
        fc.pre(input.actual_completion_tokens + more <= UINT32_MAX);
        const accounted = input.actual_completion_tokens + more;
        const error = rejection(() =>
          settleConsumption({ ...input, accounted_completion_tokens: accounted, total_columns: shape.total_columns, assignments: shape.assignments }, settings),
        );
        expect(error.violations).toStrictEqual([
          { path: '/accounted_completion_tokens', message: `must be at most actual_completion_tokens (${input.actual_completion_tokens})` },
        ]);
      }),
    );
  });

  it('refuses actual > reserved with the exact excess', () => {
    fc.assert(
      fc.property(settleCases, fc.oneof(fc.integer({ min: 1, max: 3 }), tokens), ({ settings, shape, input }, excessDrawn) => {
        const reserved = Math.min(input.reserved_completion_tokens, UINT32_MAX - input.prompt_tokens - 1);
        fc.pre(reserved >= 0);
        const excess = Math.max(1, Math.min(excessDrawn, UINT32_MAX - input.prompt_tokens - reserved));
        const actual = reserved + excess;
        const error = exceeded(() =>
          settleConsumption(
            {
              ...input,
              reserved_completion_tokens: reserved,
              actual_completion_tokens: actual,
              accounted_completion_tokens: Math.min(input.accounted_completion_tokens, actual),
              total_columns: shape.total_columns,
              assignments: shape.assignments,
            },
            settings,
          ),
        );
        expectExcess(error, '/actual_completion_tokens', reserved, excess);
      }),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Ledger postings

describe('ledger: postings of deltas and settlements', () => {
  it('a delta\'s postings pay each worker its non-zero credits from the reservation, summing exactly to the burn', () => {
    fc.assert(
      fc.property(settleCases, (drawn) => {
        const { settings, job_id } = drawn;
        const base = finalDeltaRequest(drawn);
        const delta = computeRealtimeDelta({ ...base, job_id }, settings);
        if (delta === null) {
          expect(computeRealtimeDelta(base, settings)).toBeNull();
          return;
        }
        const { job_id: named, delta_id, postings, ...rest } = delta;
        // The job id adds the ledger fields and changes nothing else.
        expect(rest).toStrictEqual(computeRealtimeDelta(base, settings));
        expect(named).toBe(job_id);
        expect(delta_id).toMatch(ID_PATTERN);
        expectPostingsShape(postings!, job_id, settings);
        expect(withoutIds(postings!)).toStrictEqual(expectedPayouts(job_id, delta.contribution.assignments, settings));
        expect(sumCreditUnits(postings!.map((posting) => posting.amount), settings.credit_scale)).toBe(unitsOf(delta.consumption.total_credits, settings));
      }),
    );
  });

  it('a settlement\'s postings pay the final delta and release the rest: they sum exactly to final delta + release', () => {
    fc.assert(
      fc.property(settleCases, (drawn) => {
        const { settings, job_id } = drawn;
        const settlement = settleConsumption(settleRequest(drawn), settings);
        const reconciliation = settlement.reconciliation!;
        const finalDelta = unitsOf(reconciliation.final_delta_credits, settings);
        const release = unitsOf(reconciliation.release_credits, settings);
        const postings = settlement.postings!;
        expect(settlement.job_id).toBe(job_id);
        expect(settlement.delta_id).toMatch(ID_PATTERN);
        expectPostingsShape(postings, job_id, settings);
        const payouts = postings.filter((posting) => posting.credit_account !== `job:${job_id}:submitter`);
        const releases = postings.filter((posting) => posting.credit_account === `job:${job_id}:submitter`);
        expect(withoutIds(payouts)).toStrictEqual(expectedPayouts(job_id, settlement.contribution?.assignments ?? [], settings));
        expect(sumCreditUnits(payouts.map((posting) => posting.amount), settings.credit_scale)).toBe(finalDelta);
        expect(releases).toStrictEqual(release === 0n ? [] : [postings.at(-1)]);
        expect(postings.map((posting) => posting.kind)).toStrictEqual([...payouts.map(() => 'payout'), ...releases.map(() => 'release')]);
        expect(sumCreditUnits(releases.map((posting) => posting.amount), settings.credit_scale)).toBe(release);
        expect(sumCreditUnits(postings.map((posting) => posting.amount), settings.credit_scale)).toBe(finalDelta + release);
      }),
    );
  });

  it('a whole life moves exactly the reservation out of the job\'s account, under ids that never repeat', () => {
    fc.assert(
      fc.property(lives(), (life) => {
        const stream = runStream(life);
        const settlement = settleConsumption(settleInput(life, stream), life.settings);
        const postings = [...stream.deltas.flatMap((delta) => delta.postings!), ...settlement.postings!];
        expectPostingsShape(postings, life.job_id, life.settings);
        expect(sumCreditUnits(postings.map((posting) => posting.amount), life.settings.credit_scale)).toBe(
          unitsOf(settlement.reconciliation!.reserved_credits, life.settings),
        );
        const toWorkers = postings.filter((posting) => posting.credit_account.startsWith('worker:'));
        expect(sumCreditUnits(toWorkers.map((posting) => posting.amount), life.settings.credit_scale)).toBe(unitsOf(settlement.total_credits, life.settings));
        expect(new Set(stream.deltas.map((delta) => delta.delta_id)).size).toBe(stream.deltas.length);
      }),
    );
  });

  it('never posts zero: workers paid nothing and an empty release get no posting', () => {
    // One whole credit among three equal workers at credit_scale 0: two get nothing.
    const settings = settingsWith(0);
    const worker = { execution_time_ms: 100, assigned_capacity_units: 1, shard_column_start: 0, shard_column_end: 1, available_memory_bytes: GIB };
    const shape: JobShape = { total_model_bytes: 0, total_columns: 1, assignments: ['a', 'b', 'c'].map((id) => assignment(id, worker)) };
    const delta = computeRealtimeDelta(
      { ...shape, prompt_tokens: 0, accounted_completion_tokens: 0, frontier_completion_tokens: 1, prompt_credits_accounted: false, job_id: 'j' },
      settings,
    )!;
    expect(delta.contribution.assignments.map((item) => item.credits)).toStrictEqual(['1', '0', '0']);
    expect(withoutIds(delta.postings!)).toStrictEqual([{ kind: 'payout', debit_account: 'job:j:reservation', credit_account: 'worker:a', amount: '1' }]);
    const settlement = settleConsumption(
      { ...shape, prompt_tokens: 0, actual_completion_tokens: 1, reserved_completion_tokens: 1, accounted_completion_tokens: 0, job_id: 'j' },
      settings,
    );
    expect(settlement.reconciliation!.release_credits).toBe('0');
    expect(settlement.postings).toStrictEqual(delta.postings);
  });

  it('ids are deterministic: the same input gives the same answer, ids included', () => {
    fc.assert(
      fc.property(settleCases, (drawn) => {
        const { settings, job_id } = drawn;
        const settle = settleRequest(drawn);
        expect(settleConsumption(structuredClone(settle), settings)).toStrictEqual(settleConsumption(settle, settings));
        const delta: RealtimeDeltaInput = { ...finalDeltaRequest(drawn), job_id };
        expect(computeRealtimeDelta(structuredClone(delta), settings)).toStrictEqual(computeRealtimeDelta(delta, settings));
      }),
    );
  });

  it('different counters give different delta ids, and none of their posting ids coincide', () => {
    const versions = [settingsWith(9), { ...DEFAULT_POLICY_SETTINGS, parameters: { ...DEFAULT_POLICY_PARAMETERS, version: 'divy-credit-1b' } }];
    const counters = fc.record({
      job_id: fc.constantFrom('a', 'b', 'a:1', '1'),
      version: fc.constantFrom(0, 1),
      flag: fc.boolean(),
      accounted: fc.integer({ min: 0, max: 2 }),
      advance: fc.integer({ min: 0, max: 2 }),
    });
    const shape = readmeShape();
    const deltaOf = (c: { job_id: string; version: number; flag: boolean; accounted: number; advance: number }) => {
      // Something is always new: the prompt when it is not yet accounted, else at least one token.
      const frontier = c.accounted + (c.flag ? Math.max(1, c.advance) : c.advance);
      const input = { ...shape, prompt_tokens: 7, accounted_completion_tokens: c.accounted, frontier_completion_tokens: frontier, prompt_credits_accounted: c.flag, job_id: c.job_id };
      return { key: JSON.stringify([c.job_id, c.version, c.flag, c.accounted, frontier]), delta: computeRealtimeDelta(input, versions[c.version]!)! };
    };
    fc.assert(
      fc.property(counters, counters, (first, second) => {
        const one = deltaOf(first);
        const two = deltaOf(second);
        expect(one.delta.delta_id === two.delta.delta_id).toBe(one.key === two.key);
        const ids = new Set([...one.delta.postings!, ...two.delta.postings!].map((posting) => posting.id));
        expect(ids.size).toBe(one.key === two.key ? one.delta.postings!.length : one.delta.postings!.length + two.delta.postings!.length);
      }),
      { numRuns: 400 },
    );
  });

  it('a settlement\'s final delta is the realtime delta over the same counters: same delta id, same payouts', () => {
    fc.assert(
      fc.property(settleCases, (drawn) => {
        const { settings, job_id } = drawn;
        const settlement = settleConsumption(settleRequest(drawn), settings);
        const delta = computeRealtimeDelta({ ...finalDeltaRequest(drawn), job_id }, settings);
        const payouts = settlement.postings!.filter((posting) => posting.credit_account.startsWith('worker:'));
        if (delta === null) {
          expect(settlement.reconciliation!.final_delta_credits).toBe(oracleFormat(0n, settings.credit_scale));
          expect(payouts).toStrictEqual([]);
          return;
        }
        expect(settlement.delta_id).toBe(delta.delta_id);
        expect(settlement.contribution).toStrictEqual(delta.contribution);
        expect(payouts).toStrictEqual(delta.postings);
        expect(settlement.reconciliation!.final_delta_credits).toBe(delta.consumption.total_credits);
      }),
    );
  });

  it('the release posting\'s id depends on the job id alone', () => {
    fc.assert(
      fc.property(settleCases, settleCases, fc.constantFrom('job-1', 'job-2'), fc.constantFrom('job-1', 'job-2'), (first, second, firstJob, secondJob) => {
        const releaseOf = (drawn: typeof first, job_id: string): Posting => {
          // One more token reserved than produced: the release is not zero.
          const reserved = Math.min(drawn.input.reserved_completion_tokens, UINT32_MAX - drawn.input.prompt_tokens - 1) + 1;
          const actual = Math.min(drawn.input.actual_completion_tokens, reserved - 1);
          const accounted = Math.min(drawn.input.accounted_completion_tokens, actual);
          const settlement = settleConsumption(
            {
              ...drawn.input,
              reserved_completion_tokens: reserved,
              actual_completion_tokens: actual,
              accounted_completion_tokens: accounted,
              total_columns: drawn.shape.total_columns,
              assignments: drawn.shape.assignments,
              job_id,
            },
            drawn.settings,
          );
          const release = settlement.postings!.at(-1)!;
          expect(release.credit_account).toBe(`job:${job_id}:submitter`);
          expect(release.amount).toBe(settlement.reconciliation!.release_credits);
          return release;
        };
        const one = releaseOf(first, firstJob);
        const two = releaseOf(second, secondJob);
        expect(one.id === two.id).toBe(firstJob === secondJob);
      }),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Policy versions side by side

describe('pinned versions: a job keeps the policy it was quoted under', () => {
  const A = DEFAULT_POLICY_PARAMETERS;
  const B: PolicyParameters = { ...DEFAULT_POLICY_PARAMETERS, version: 'divy-credit-2', model_size_scale_gib: 16 };
  const deployment = { credit_scale: DEFAULT_POLICY_SETTINGS.credit_scale, max_assignments: DEFAULT_POLICY_SETTINGS.max_assignments };
  const before = catalogOf(A.version, [A, B], deployment);
  const after = catalogOf(B.version, [A, B], deployment);

  it('settingsFor names the current version when asked for none, and any listed version when named', () => {
    expect(settingsFor(before, undefined)).toStrictEqual({ ...deployment, parameters: A });
    expect(settingsFor(after, undefined)).toStrictEqual({ ...deployment, parameters: B });
    expect(settingsFor(after, A.version)).toStrictEqual({ ...deployment, parameters: A });
    expect(settingsFor(before, B.version)).toStrictEqual({ ...deployment, parameters: B });
  });

  it('refuses an unknown version at /policy_version, naming the known ones', () => {
    expect(POLICY_VERSION_PATH).toBe('/policy_version');
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.constantFrom('', 'divy-credit-3', 'DIVY-CREDIT-1', 'divy-credit-1 ')), (version) => {
        fc.pre(version !== A.version && version !== B.version);
        for (const catalog of [before, after]) {
          const error = rejection(() => settingsFor(catalog, version));
          expect(error.violations).toStrictEqual([
            { path: '/policy_version', message: 'must be one of the versions this service knows: divy-credit-1, divy-credit-2' },
          ]);
        }
      }),
    );
  });

  describe('priceByVersion: a request priced by the version it names', () => {
    const UNKNOWN = { path: '/policy_version', message: 'must be one of the versions this service knows: divy-credit-1, divy-credit-2' };

    /** Calls priceByVersion and returns what it answered or threw, and the settings it priced under. */
    function priced<Result>(catalog: typeof before, version: string | undefined, price: (settings: PolicySettings) => Result) {
      const seen: PolicySettings[] = [];
      let outcome: { answer: Result } | { error: unknown };
      try {
        outcome = { answer: priceByVersion(catalog, version, (settings) => (seen.push(settings), price(settings))) };
      } catch (error) {
        outcome = { error };
      }
      return { outcome, seen };
    }

    it('prices once, under the version named or the current one, and answers exactly what the pricing answers', () => {
      const cases = [
        [before, undefined, A],
        [after, undefined, B],
        [after, A.version, A],
        [before, B.version, B],
      ] as const;
      for (const [catalog, version, expected] of cases) {
        const answer = { priced_under: expected.version };
        const { outcome, seen } = priced(catalog, version, () => answer);
        expect(outcome).toStrictEqual({ answer });
        expect((outcome as { answer: unknown }).answer).toBe(answer);
        expect(seen).toStrictEqual([{ ...deployment, parameters: expected }]);
      }
    });

    it('under a known version, lets every error of the pricing through as it is', () => {
      for (const thrown of [new PolicyInputError([{ path: '/prompt_tokens', message: 'broken' }]), new ReservationExceededError('/actual_completion_tokens', 1, 2), new TypeError('a bug')]) {
        const { outcome } = priced(after, A.version, () => {
          throw thrown;
        });
        expect(outcome).toStrictEqual({ error: thrown });
        expect((outcome as { error: unknown }).error).toBe(thrown);
      }
    });

    it('under an unknown version, still checks the request under the current policy, and refuses the version alone when nothing else is wrong', () => {
      for (const catalog of [before, after]) {
        const { outcome, seen } = priced(catalog, 'divy-credit-3', () => 'an answer never returned');
        const error = (outcome as { error: PolicyInputError }).error;
        expect(error).toBeInstanceOf(PolicyInputError);
        expect(error.violations).toStrictEqual([UNKNOWN]);
        expect(error.violation_count).toBe(1);
        expect(seen).toStrictEqual([settingsFor(catalog, undefined)]);
      }
    });

    it('under an unknown version, lists /policy_version first and then every violation the current policy finds', () => {
      const { outcome } = priced(after, 'divy-credit-3', (settings) =>
        settleConsumption({ prompt_tokens: -1, actual_completion_tokens: 100, accounted_completion_tokens: 160, reserved_completion_tokens: 256, prompt_credits_accounted: true, total_model_bytes: 1 }, settings),
      );
      const error = (outcome as { error: PolicyInputError }).error;
      expect(error).toBeInstanceOf(PolicyInputError);
      expect(error.violations).toStrictEqual([
        UNKNOWN,
        { path: '/prompt_tokens', message: 'must be an integer from 0 to 4294967295' },
        { path: '/accounted_completion_tokens', message: 'must be at most actual_completion_tokens (100)' },
      ]);
      expect(error.violation_count).toBe(3);
    });

    it('property: under an unknown version, a settlement is refused with the version, then exactly what the current policy refuses', () => {
      // A sound settlement of the README's model, or one past its reservation; then up to two fields broken.
      const small = fc.integer({ min: 0, max: 300 });
      const fields = ['prompt_tokens', 'actual_completion_tokens', 'accounted_completion_tokens', 'reserved_completion_tokens', 'total_model_bytes', 'total_columns'] as const;
      const input: fc.Arbitrary<SettleInput> = fc
        .record({
          prompt_tokens: small,
          accounted: small,
          more: small,
          slack: fc.oneof(fc.integer({ min: -20, max: -1 }), small),
          prompt_credits_accounted: fc.boolean(),
          total_model_bytes: modelBytes,
          breaks: fc.array(fc.tuple(fc.constantFrom(...fields), fc.constantFrom(-1, 0.5, UINT32_MAX + 1)), { maxLength: 2 }),
        })
        .map(({ accounted, more, slack, breaks, ...rest }) => {
          const job: Record<string, unknown> = {
            ...rest,
            accounted_completion_tokens: accounted,
            actual_completion_tokens: accounted + more,
            reserved_completion_tokens: Math.max(0, accounted + more + slack),
            total_columns: 2,
            assignments: [assignment('a', { execution_time_ms: 300, assigned_capacity_units: 8, shard_column_start: 0, shard_column_end: 2, available_memory_bytes: GIB })],
            job_id: 'job-42',
          };
          for (const [field, value] of breaks) job[field] = value;
          return job as unknown as SettleInput;
        });
      const outcomes = new Set<string>();
      fc.assert(
        fc.property(input, fc.constantFrom(before, after), fc.constantFrom('divy-credit-3', '', 'DIVY-CREDIT-1'), (job, catalog, version) => {
          const current = priced(catalog, undefined, (settings) => settleConsumption(job, settings)).outcome;
          const { outcome, seen } = priced(catalog, version, (settings) => settleConsumption(job, settings));
          expect(seen).toStrictEqual([settingsFor(catalog, undefined)]);
          const error = (outcome as { error: PolicyInputError }).error;
          expect(error).toBeInstanceOf(PolicyInputError);
          outcomes.add('error' in current ? (current.error as Error).name : 'priced');
          if ('error' in current && current.error instanceof PolicyInputError) {
            expect(error.violations).toStrictEqual([UNKNOWN, ...current.error.violations]);
            expect(error.violation_count).toBe(current.error.violation_count + 1);
          } else {
            // A settlement the current policy prices, or finds past its reservation: the version alone.
            if ('error' in current) expect(current.error).toBeInstanceOf(ReservationExceededError);
            expect(error.violations).toStrictEqual([UNKNOWN]);
            expect(error.violation_count).toBe(1);
          }
        }),
        { seed: 20_261_126, numRuns: 300 },
      );
      expect([...outcomes].sort()).toStrictEqual(['PolicyInputError', 'ReservationExceededError', 'priced']);
    });

    it('under an unknown version, a job past its reservation is refused for its version alone: the 409 is for the policy it names to say', () => {
      const job: SettleInput = { prompt_tokens: 128, actual_completion_tokens: 300, total_model_bytes: 64 * GIB, reserved_completion_tokens: 256, accounted_completion_tokens: 160, prompt_credits_accounted: true };
      expectExcess(exceeded(() => priceByVersion(after, A.version, (settings) => settleConsumption(job, settings))), '/actual_completion_tokens', 256, 44);
      const error = rejection(() => priceByVersion(after, 'divy-credit-3', (settings) => settleConsumption(job, settings)));
      expect(error.violations).toStrictEqual([UNKNOWN]);
      expect(error.violation_count).toBe(1);
    });

    it('under an unknown version, keeps the bound on the violations listed, and counts the version among them', () => {
      // 150 shards past total_columns: 150 violations, of which the first VIOLATIONS_LISTED_MAX are listed.
      const job = {
        prompt_tokens: 1,
        completion_tokens: 1,
        total_model_bytes: GIB,
        total_columns: 1,
        assignments: Array.from({ length: 150 }, (_, index) =>
          assignment(`w${index}`, { execution_time_ms: 1, assigned_capacity_units: 1, shard_column_start: 0, shard_column_end: 2, available_memory_bytes: 1 }),
        ),
      };
      const alone = rejection(() => computeContribution(job, settingsFor(after, undefined)));
      expect(alone.violations).toHaveLength(VIOLATIONS_LISTED_MAX);
      expect(alone.violation_count).toBe(150);
      const error = rejection(() => priceByVersion(after, 'divy-credit-3', (settings) => computeContribution(job, settings)));
      expect(error.violations).toStrictEqual([UNKNOWN, ...alone.violations.slice(0, VIOLATIONS_LISTED_MAX - 1)]);
      expect(error.violation_count).toBe(151);
      expect(error.message).toMatch(/; and 146 more$/);
    });

    it('under an unknown version, lets any other error through as it is: a bug is not a version problem', () => {
      const bug = new TypeError('a bug');
      const { outcome } = priced(before, 'divy-credit-3', () => {
        throw bug;
      });
      expect((outcome as { error: unknown }).error).toBe(bug);
    });
  });

  it('a job quoted under A telescopes under A while the current policy becomes B; under B its prices differ', () => {
    const largeModels = fc.integer({ min: 32 * GIB, max: 2048 * GIB });
    fc.assert(
      fc.property(lives(fc.constant(settingsFor(before, undefined))), largeModels, fc.nat(), (drawn, total_model_bytes, switchSeed) => {
        const life: Life = { ...drawn, shape: { ...drawn.shape, total_model_bytes } };
        // The wallet quotes under the current policy, A, and the job names A from then on.
        const quote = quoteConsumption(
          { prompt_tokens: life.prompt_tokens, requested_completion_tokens: life.reserved, total_model_bytes },
          settingsFor(before, undefined),
        );
        expect(quote.policy_version).toBe(A.version);
        // The deployment switches its current policy to B somewhere in the stream.
        const switchAt = switchSeed % (life.frontiers.length + 1);
        const stream = runStream(life, (step) => settingsFor(step < switchAt ? before : after, quote.policy_version));
        const settlement = settleConsumption(settleInput(life, stream), settingsFor(after, quote.policy_version));
        for (const delta of stream.deltas) {
          expect(delta.policy_version).toBe(A.version);
          expect(delta.reservation!.reserved_credits).toBe(quote.total_credits);
        }
        expect(settlement.policy_version).toBe(A.version);
        expect(settlement.reconciliation!.reserved_credits).toBe(quote.total_credits);
        const streamed = sumCreditUnits(stream.deltas.map((delta) => delta.consumption.total_credits));
        expect(creditUnits(settlement.reconciliation!.streamed_credits)).toBe(streamed);
        expect(streamed + creditUnits(settlement.reconciliation!.final_delta_credits)).toBe(creditUnits(settlement.total_credits));
        const settings = settingsFor(before, undefined);
        expect(creditUnits(settlement.total_credits)).toBe(price(life.prompt_tokens, total_model_bytes, settings) + price(life.actual, total_model_bytes, settings));
        // The current policy, B, prices the same job differently (twice the factor on these models):
        // a job that followed the current policy would not add up to its quote.
        const underB = settleConsumption(settleInput(life, stream), settingsFor(after, undefined));
        expect(underB.policy_version).toBe(B.version);
        const bPrice = (count: number) => oracleTokenUnits(count, total_model_bytes, { model_size_scale_gib: 16 });
        expect(creditUnits(underB.total_credits)).toBe(bPrice(life.prompt_tokens) + bPrice(life.actual));
        if (life.prompt_tokens + life.actual > 0) expect(underB.total_credits).not.toBe(settlement.total_credits);
      }),
    );
  });
});

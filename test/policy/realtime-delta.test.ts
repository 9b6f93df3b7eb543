import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  computeRealtimeDelta,
  DEFAULT_POLICY_PARAMETERS,
  DEFAULT_POLICY_SETTINGS,
  settleConsumption,
  type PolicySettings,
  type RealtimeDelta,
  type RealtimeDeltaInput,
} from '../../src/policy/index.js';
import { creditPattern, creditUnits, oracleTokenUnits } from '../support/credits.js';
import { loadVectors, mismatches, VECTORS_PRESENT } from '../support/vectors.js';
import { assignment, expectClose, expectSoundSplit, GIB, jobShapes, type JobShape } from './jobs.js';

const readmeJob: JobShape = {
  total_model_bytes: 64 * GIB,
  total_columns: 8192,
  assignments: [
    assignment('fast-metal', { execution_time_ms: 300, assigned_capacity_units: 8, shard_column_start: 0, shard_column_end: 4096, available_memory_bytes: 24 * GIB }),
    assignment('slow-cpu', { execution_time_ms: 900, assigned_capacity_units: 4, shard_column_start: 4096, shard_column_end: 8192, available_memory_bytes: 16 * GIB }),
  ],
};

function deltaOf(input: RealtimeDeltaInput, settings?: PolicySettings): RealtimeDelta {
  const result = computeRealtimeDelta(input, settings);
  expect(result).not.toBeNull();
  return result!;
}

describe('computeRealtimeDelta: examples', () => {
  it('accounts the README example: 8 new completion tokens at factor 2', () => {
    const input = { ...readmeJob, prompt_tokens: 128, frontier_completion_tokens: 32, accounted_completion_tokens: 24, prompt_credits_accounted: true };
    const result = deltaOf(input);
    expect(result).toMatchObject({
      policy_version: 'divy-credit-1',
      prompt_tokens_delta: 0,
      completion_tokens_delta: 8,
      frontier_completion_tokens: 32,
    });
    expect(result.consumption).toEqual({
      policy_version: 'divy-credit-1',
      model_size_factor: 2,
      prompt_credits: '0.000000000',
      completion_credits: '16.000000000',
      total_credits: '16.000000000',
    });
    // fast-metal: 8 units * 1/2 = 4 cu in 0.3 s; slow-cpu: 2 cu in 0.9 s. The median is their mean, so
    // the multipliers clamp to 1.5 and 0.5; both hold 32 GiB of the model on less memory: pressure 1.
    // Weights 2/3 * 1.5 and 1/3 * 0.5 (times 1.15 each) are 6:1, so 16 credits split 96/7 and 16/7:
    // 13.714285714|2857 and 2.285714285|714: the leftover unit goes to the larger remainder, slow-cpu.
    expect(result.contribution.job_credit_budget).toBe('16.000000000');
    expect(result.contribution.assignments.map((item) => [item.worker_id, item.credits])).toEqual([
      ['fast-metal', '13.714285714'],
      ['slow-cpu', '2.285714286'],
    ]);
    const [fast, slow] = result.contribution.assignments;
    expect(fast).toMatchObject({ compute_share: 4 / 6, throughput_multiplier: 1.5, resource_pressure_multiplier: 0.85 + 0.3, memory_pressure: 1 });
    expect(slow).toMatchObject({ compute_share: 2 / 6, throughput_multiplier: 0.5, resource_pressure_multiplier: 0.85 + 0.3, memory_pressure: 1 });
    expectClose(fast!.measured_service_rate, 4 / 0.3, 'fast rate');
    expectClose(slow!.measured_service_rate, 2 / 0.9, 'slow rate');
    expectClose(fast!.reference_service_rate, (4 / 0.3 + 2 / 0.9) / 2, 'reference rate');
    expectClose(fast!.normalized_contribution_share, 6 / 7, 'fast share');
    expectClose(slow!.normalized_contribution_share, 1 / 7, 'slow share');
  });

  it('accounts an unaccounted prompt with no new completion tokens', () => {
    const input = { ...readmeJob, prompt_tokens: 8, frontier_completion_tokens: 0, accounted_completion_tokens: 0, prompt_credits_accounted: false };
    const result = deltaOf(input);
    expect(result).toMatchObject({ prompt_tokens_delta: 8, completion_tokens_delta: 0, frontier_completion_tokens: 0 });
    expect(result.consumption).toMatchObject({ prompt_credits: '16.000000000', completion_credits: '0.000000000', total_credits: '16.000000000' });
    expect(result.contribution.job_credit_budget).toBe('16.000000000');
  });

  it('returns null when nothing is new', () => {
    const base = { ...readmeJob, prompt_tokens: 8, frontier_completion_tokens: 3, accounted_completion_tokens: 3 };
    expect(computeRealtimeDelta({ ...base, prompt_credits_accounted: true })).toBeNull();
    expect(computeRealtimeDelta({ ...base, prompt_tokens: 0, prompt_credits_accounted: false })).toBeNull();
    expect(computeRealtimeDelta({ ...base, frontier_completion_tokens: 0, accounted_completion_tokens: 0, prompt_credits_accounted: true })).toBeNull();
  });

  it('prices completion as C(frontier) - C(accounted), not C(frontier - accounted)', () => {
    // One byte over 32 GiB: factor 1 + 2^-35, so C(n) = n + n * 2.9e-11 rounded to 9 places. C(17) = 17.000000000
    // (17 * 2^-35 = 4.9e-10 rounds down), C(18) = 18.000000001 (5.2e-10 rounds up), while C(1) = 1.000000000.
    const input = {
      ...readmeJob,
      total_model_bytes: 32 * GIB + 1,
      prompt_tokens: 0,
      frontier_completion_tokens: 18,
      accounted_completion_tokens: 17,
      prompt_credits_accounted: true,
    };
    expect(deltaOf(input).consumption.completion_credits).toBe('1.000000001');
    expect(deltaOf({ ...input, frontier_completion_tokens: 17, accounted_completion_tokens: 16 }).consumption.completion_credits).toBe('1.000000000');
    expect(deltaOf({ ...input, frontier_completion_tokens: 1, accounted_completion_tokens: 0 }).consumption.completion_credits).toBe('1.000000000');
  });

  it('burns exactly what it splits', () => {
    const input = { ...readmeJob, total_model_bytes: 77 * GIB + 12_345, prompt_tokens: 1000, frontier_completion_tokens: 997, accounted_completion_tokens: 3, prompt_credits_accounted: false };
    const result = deltaOf(input);
    expect(result.contribution.job_credit_budget).toBe(result.consumption.total_credits);
    expectSoundSplit(input, result.contribution, creditUnits(result.consumption.total_credits));
  });
});

describe.skipIf(!VECTORS_PRESENT)('computeRealtimeDelta: the named reference vectors', () => {
  const named = loadVectors().filter((vector) => vector.kind === 'realtime_delta' && !/^s\d+-\d+$/.test(vector.id));

  it('has the four named realtime examples', () => {
    expect(named.map((vector) => vector.id)).toEqual(['readme-realtime', 'seed-prompt-delta-first', 'seed-new-frontier-only', 'seed-already-accounted']);
  });

  it.for(named.map((vector) => [vector.id, vector] as const))('%s matches the reference', ([, vector]) => {
    const result = computeRealtimeDelta(vector.input as unknown as RealtimeDeltaInput);
    if (vector.expected === null) expect(result).toBeNull();
    else expect(mismatches(vector.expected, result)).toEqual([]);
  });
});

/** A job's stream of frontiers 0 = f0 <= f1 <= ... <= fk = N, under some settings. */
const streams = fc
  .record({
    job: jobShapes({ maxAssignments: 8 }),
    prompt_tokens: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 1_000_000 })),
    completion_tokens: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 1_000_000 })),
    credit_scale: fc.constantFrom(0, 2, 9, 9, 18),
    model_size_scale_gib: fc.constantFrom(24, 32, 32),
  })
  .chain((draw) =>
    fc.record({
      draw: fc.constant(draw),
      cuts: fc.array(fc.integer({ min: 0, max: draw.completion_tokens }), { maxLength: 12 }),
    }),
  )
  .map(({ draw, cuts }) => ({ ...draw, frontiers: [...cuts.sort((left, right) => left - right), draw.completion_tokens] }));

describe('computeRealtimeDelta: properties', () => {
  it('telescopes: the deltas of any stream burn exactly the settlement of its end', () => {
    fc.assert(
      fc.property(streams, (stream) => {
        const { job, prompt_tokens, completion_tokens, credit_scale, model_size_scale_gib } = stream;
        const settings: PolicySettings = {
          ...DEFAULT_POLICY_SETTINGS,
          credit_scale,
          parameters: { ...DEFAULT_POLICY_PARAMETERS, model_size_scale_gib },
        };
        const price = (tokens: number) => oracleTokenUnits(tokens, job.total_model_bytes, { credit_scale, model_size_scale_gib });
        const units = (amount: string) => creditUnits(amount, credit_scale);
        let accounted = 0;
        let promptAccounted = false;
        const burned = { prompt: 0n, completion: 0n, total: 0n };
        for (const frontier of stream.frontiers) {
          const input = { ...job, prompt_tokens, frontier_completion_tokens: frontier, accounted_completion_tokens: accounted, prompt_credits_accounted: promptAccounted };
          const result = computeRealtimeDelta(input, settings);
          const promptDelta = promptAccounted ? 0 : prompt_tokens;
          if (promptDelta === 0 && frontier === accounted) {
            expect(result).toBeNull();
          } else {
            expect(result).not.toBeNull();
            const { consumption, contribution } = result!;
            expect(result).toMatchObject({ prompt_tokens_delta: promptDelta, completion_tokens_delta: frontier - accounted, frontier_completion_tokens: frontier });
            for (const amount of [consumption.prompt_credits, consumption.completion_credits, consumption.total_credits]) {
              expect(amount).toMatch(creditPattern(credit_scale));
            }
            expect(units(consumption.prompt_credits)).toBe(price(promptDelta));
            expect(units(consumption.completion_credits)).toBe(price(frontier) - price(accounted));
            expect(units(consumption.total_credits)).toBe(units(consumption.prompt_credits) + units(consumption.completion_credits));
            expect(contribution.job_credit_budget).toBe(consumption.total_credits);
            expectSoundSplit(job, contribution, units(consumption.total_credits), credit_scale, settings.parameters);
            burned.prompt += units(consumption.prompt_credits);
            burned.completion += units(consumption.completion_credits);
            burned.total += units(consumption.total_credits);
          }
          accounted = frontier;
          promptAccounted = true;
        }
        const settled = settleConsumption({ prompt_tokens, actual_completion_tokens: completion_tokens, total_model_bytes: job.total_model_bytes }, settings);
        expect(burned.prompt).toBe(units(settled.prompt_credits));
        expect(burned.completion).toBe(units(settled.completion_credits));
        expect(burned.total).toBe(units(settled.total_credits));
      }),
    );
  });

  it('splits exactly what it burns for any valid delta', () => {
    const deltas = fc
      .record({
        job: jobShapes(),
        prompt_tokens: fc.integer({ min: 0, max: 1_000_000 }),
        accounted: fc.integer({ min: 0, max: 1_000_000 }),
        fresh: fc.integer({ min: 0, max: 1_000_000 }),
        prompt_credits_accounted: fc.boolean(),
      })
      .filter((draw) => draw.fresh > 0 || (!draw.prompt_credits_accounted && draw.prompt_tokens > 0));
    fc.assert(
      fc.property(deltas, ({ job, prompt_tokens, accounted, fresh, prompt_credits_accounted }) => {
        const input = { ...job, prompt_tokens, accounted_completion_tokens: accounted, frontier_completion_tokens: accounted + fresh, prompt_credits_accounted };
        const result = deltaOf(input);
        expect(result.contribution.job_credit_budget).toBe(result.consumption.total_credits);
        expectSoundSplit(job, result.contribution, creditUnits(result.consumption.total_credits));
        expect(result.consumption.model_size_factor).toBe(Math.max(1, job.total_model_bytes / (32 * GIB)));
      }),
    );
  });
});

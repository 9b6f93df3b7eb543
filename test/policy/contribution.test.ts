import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SAFE_INTEGER_MAX, computeContribution, type ContributionInput } from '../../src/policy/index.js';
import { creditUnits, Exact, sumCreditUnits } from '../support/credits.js';
import { loadVectors, mismatches, VECTORS_PRESENT } from '../support/vectors.js';
import { assignment, executionTime, expectClose, expectSoundContribution, GIB, jobs, memory, modelBytes } from './jobs.js';

describe('computeContribution: the named examples, derived by hand', () => {
  const base = { prompt_tokens: 8, completion_tokens: 4, total_model_bytes: 64 * GIB, total_columns: 8192 };

  it('splits equal workers equally (seed-equal-workers)', () => {
    // 12 tokens at factor 2 = 24 credits; same work, speed and memory: 12 each.
    const shape = { execution_time_ms: 500, assigned_capacity_units: 4, available_memory_bytes: 16 * GIB };
    const input = {
      ...base,
      assignments: [
        assignment('worker-a', { ...shape, shard_column_start: 0, shard_column_end: 4096 }),
        assignment('worker-b', { ...shape, shard_column_start: 4096, shard_column_end: 8192 }),
      ],
    };
    const result = computeContribution(input);
    expect(result.job_credit_budget).toBe('24.000000000');
    expect(result.assignments.map((item) => item.credits)).toEqual(['12.000000000', '12.000000000']);
    // 4 units * 1/2 shard = 2 compute units in 0.5 s = 4/s each; 32 GiB of the model on 16 GiB: pressure 1.
    expect(result.assignments[0]).toEqual({
      worker_id: 'worker-a',
      credits: '12.000000000',
      compute_share: 0.5,
      throughput_multiplier: 1,
      resource_pressure_multiplier: 0.85 + 0.3,
      normalized_contribution_share: 0.5,
      measured_service_rate: 4,
      reference_service_rate: 4,
      memory_pressure: 1,
    });
    expectSoundContribution(input, result);
  });

  it('pays the faster worker three times the slower (seed-faster-service)', () => {
    // Rates 2/0.4 = 5 and 2/1.2 = 5/3, median 10/3: multipliers clamp to 1.5 and 0.5, so 3:1 of 24.
    const shape = { assigned_capacity_units: 4, available_memory_bytes: 16 * GIB };
    const input = {
      ...base,
      assignments: [
        assignment('fast', { ...shape, execution_time_ms: 400, shard_column_start: 0, shard_column_end: 4096 }),
        assignment('slow', { ...shape, execution_time_ms: 1200, shard_column_start: 4096, shard_column_end: 8192 }),
      ],
    };
    const result = computeContribution(input);
    expect(result.assignments.map((item) => item.credits)).toEqual(['18.000000000', '6.000000000']);
    expect(result.assignments.map((item) => item.throughput_multiplier)).toEqual([1.5, 0.5]);
    expectSoundContribution(input, result);
  });

  it('pays more for more work (seed-larger-work)', () => {
    // large: 8 units * 3/4 = 6 cu/s, small: 4 * 1/4 = 1 cu/s, median 3.5 -> multipliers 1.5 and 0.5.
    // Memory: 48 GiB on 24 GiB -> 1; 16 GiB on 24 GiB -> 2/3, multiplier 0.85 + 0.2 = 1.05.
    // Weights 6/7 * 1.5 * 1.15 and 1/7 * 0.5 * 1.05: shares 138/145 and 7/145 of 24 credits:
    // 22.8413793103448... (remainder .34 units) and 1.1586206896551... (remainder .66 units): the unit goes to small.
    const input = {
      ...base,
      assignments: [
        assignment('large', { execution_time_ms: 1000, assigned_capacity_units: 8, shard_column_start: 0, shard_column_end: 6144, available_memory_bytes: 24 * GIB }),
        assignment('small', { execution_time_ms: 1000, assigned_capacity_units: 4, shard_column_start: 6144, shard_column_end: 8192, available_memory_bytes: 24 * GIB }),
      ],
    };
    const result = computeContribution(input);
    expect(result.assignments.map((item) => item.credits)).toEqual(['22.841379310', '1.158620690']);
    expectClose(result.assignments[0]!.normalized_contribution_share, 138 / 145, 'large share');
    expectClose(result.assignments[1]!.memory_pressure, 2 / 3, 'small pressure');
    expectSoundContribution(input, result);
  });

  it('pays more for higher memory pressure (seed-memory-pressure)', () => {
    // 32 GiB of the model on 40 GiB -> 0.8 (multiplier 1.09); on 80 GiB -> 0.4 (multiplier 0.97).
    // Shares 109/206 and 97/206 of 24: 12.6990291262135... (remainder .21) and 11.3009708737864... (.79).
    const shape = { execution_time_ms: 800, assigned_capacity_units: 4 };
    const input = {
      ...base,
      assignments: [
        assignment('tight', { ...shape, shard_column_start: 0, shard_column_end: 4096, available_memory_bytes: 40 * GIB }),
        assignment('roomy', { ...shape, shard_column_start: 4096, shard_column_end: 8192, available_memory_bytes: 80 * GIB }),
      ],
    };
    const result = computeContribution(input);
    expect(result.assignments.map((item) => item.credits)).toEqual(['12.699029126', '11.300970874']);
    expect(result.assignments.map((item) => item.memory_pressure)).toEqual([0.8, 0.4]);
    expectSoundContribution(input, result);
  });

  it('conserves a budget that does not divide evenly', () => {
    // 1 token at factor 1 = 1 credit among three equal workers: 0.333333334 to the first, ties to the earlier input.
    const shape = { execution_time_ms: 10, assigned_capacity_units: 1, shard_column_start: 0, shard_column_end: 1, available_memory_bytes: 1 };
    const input = {
      prompt_tokens: 1,
      completion_tokens: 0,
      total_model_bytes: 0,
      total_columns: 1,
      assignments: ['a', 'b', 'c'].map((id) => assignment(id, shape)),
    };
    expect(computeContribution(input).assignments.map((item) => item.credits)).toEqual(['0.333333334', '0.333333333', '0.333333333']);
  });
});

describe.skipIf(!VECTORS_PRESENT)('computeContribution: the named reference vectors', () => {
  const named = loadVectors().filter((vector) => vector.kind === 'contribution' && !/^s\d+-\d+$/.test(vector.id));

  it('has the four named contribution examples', () => {
    expect(named.map((vector) => vector.id)).toEqual(['seed-equal-workers', 'seed-faster-service', 'seed-larger-work', 'seed-memory-pressure']);
  });

  it.for(named.map((vector) => [vector.id, vector] as const))('%s matches the reference', ([, vector]) => {
    const input = vector.input as unknown as ContributionInput;
    const result = computeContribution(input);
    expect(mismatches(vector.expected, result)).toEqual([]);
    expectSoundContribution(input, result);
  });
});

describe('computeContribution: properties', () => {
  it('pays out exactly the budget, every worker at least zero, with the model ratios', () => {
    fc.assert(
      fc.property(jobs(), (input) => {
        expectSoundContribution(input, computeContribution(input));
      }),
    );
  });

  it('pays out exactly the budget on the bigint path (up to 2^32 - 1 tokens at up to 2^53 - 1 bytes)', () => {
    // At 2^50 bytes and more, a token costs at least 2^15 credits: 2^10 tokens are past 2^52 units.
    const bigJobs = jobs({ maxAssignments: 12 }).chain((input) =>
      fc
        .record({
          prompt_tokens: fc.integer({ min: 0, max: 2 ** 31 }),
          completion_tokens: fc.integer({ min: 2 ** 10, max: 2 ** 31 - 1 }),
          total_model_bytes: fc.integer({ min: 2 ** 50, max: SAFE_INTEGER_MAX }),
        })
        .map((big) => ({ ...input, ...big })),
    );
    fc.assert(
      fc.property(bigJobs, (input) => {
        const result = computeContribution(input);
        expect(creditUnits(result.job_credit_budget)).toBeGreaterThan(2n ** 52n);
        expectSoundContribution(input, result);
      }),
      { numRuns: 50 },
    );
  });

  it('pays out exactly the largest possible budget', () => {
    const input = {
      prompt_tokens: 2 ** 31,
      completion_tokens: 2 ** 31 - 1,
      total_model_bytes: SAFE_INTEGER_MAX,
      total_columns: 3,
      assignments: [0, 1, 2].map((index) =>
        assignment(`w${index}`, { execution_time_ms: 1000 * (index + 1), assigned_capacity_units: 7, shard_column_start: index, shard_column_end: 3, available_memory_bytes: 3 }),
      ),
    };
    expectSoundContribution(input, computeContribution(input));
  });

  it('permutes every ratio exactly and every credit within one unit when the assignments are permuted', () => {
    const permuted = jobs().chain((input) =>
      fc.tuple(
        fc.constant(input),
        fc.shuffledSubarray(
          input.assignments.map((_, index) => index),
          { minLength: input.assignments.length, maxLength: input.assignments.length },
        ),
      ),
    );
    fc.assert(
      fc.property(permuted, ([input, order]) => {
        const original = computeContribution(input);
        const shuffledInput = { ...input, assignments: order.map((index) => input.assignments[index]!) };
        const shuffled = computeContribution(shuffledInput);
        expect(shuffled.job_credit_budget).toBe(original.job_credit_budget);
        expect(sumCreditUnits(shuffled.assignments.map((item) => item.credits))).toBe(creditUnits(original.job_credit_budget));
        order.forEach((from, to) => {
          const { credits: movedCredits, ...moved } = shuffled.assignments[to]!;
          const { credits: originalCredits, ...before } = original.assignments[from]!;
          expect(moved).toStrictEqual(before);
          const drift = creditUnits(movedCredits) - creditUnits(originalCredits);
          expect(drift >= -1n && drift <= 1n).toBe(true);
        });
      }),
    );
  });

  it('pays workers with identical assignments identical ratios, credits within one unit, earlier never less', () => {
    const withTwins = jobs({ maxAssignments: 20 }).chain((input) =>
      fc.tuple(
        fc.constant(input),
        fc.integer({ min: 0, max: input.assignments.length - 1 }),
        fc.array(fc.integer({ min: 0, max: input.assignments.length }), { minLength: 1, maxLength: 6 }),
      ),
    );
    fc.assert(
      fc.property(withTwins, ([input, template, positions]) => {
        const assignments = [...input.assignments];
        positions.forEach((position, copy) => {
          assignments.splice(position, 0, { ...input.assignments[template]!, worker_id: `twin-${copy}` });
        });
        const twinInput = { ...input, assignments };
        const result = computeContribution(twinInput);
        expectSoundContribution(twinInput, result);
        const twinId = input.assignments[template]!.worker_id;
        const twins = result.assignments.filter((item) => item.worker_id === twinId || item.worker_id.startsWith('twin-'));
        expect(twins).toHaveLength(positions.length + 1);
        const { credits: _first, worker_id: _id, ...ratios } = twins[0]!;
        for (let index = 1; index < twins.length; index += 1) {
          const { credits: _credits, worker_id: _worker, ...other } = twins[index]!;
          expect(other).toStrictEqual(ratios);
          const step = creditUnits(twins[index - 1]!.credits) - creditUnits(twins[index]!.credits);
          expect(step >= 0n && step <= 1n).toBe(true);
        }
        const spread = creditUnits(twins[0]!.credits) - creditUnits(twins[twins.length - 1]!.credits);
        expect(spread >= 0n && spread <= 1n).toBe(true);
      }),
    );
  });

  it('pays the faster of two otherwise equal workers strictly more, in the ratio of their clamped multipliers', () => {
    // Times of at least 1 ms are above the 0.001 s floor, so distinct times mean distinct rates; with two
    // workers the median sits between them, so the faster multiplier is above 1 and the slower below.
    const race = fc.record({
      times: fc.uniqueArray(fc.integer({ min: 1, max: 10_000_000 }), { minLength: 2, maxLength: 2 }),
      fastFirst: fc.boolean(),
      capacity: fc.integer({ min: 1, max: 1_000_000 }),
      columns: fc.integer({ min: 1, max: 1_000_000 }),
      memory,
      bytes: modelBytes,
      tokens: fc.integer({ min: 1, max: 1_000_000 }),
    });
    fc.assert(
      fc.property(race, ({ times, fastFirst, capacity, columns, memory: available, bytes, tokens }) => {
        const [fastTime, slowTime] = [Math.min(...times), Math.max(...times)];
        const worker = (worker_id: string, execution_time_ms: number) =>
          assignment(worker_id, { execution_time_ms, assigned_capacity_units: capacity, shard_column_start: 0, shard_column_end: columns, available_memory_bytes: available });
        const pair = [worker('fast', fastTime), worker('slow', slowTime)];
        const input = { prompt_tokens: tokens, completion_tokens: 0, total_model_bytes: bytes, total_columns: columns, assignments: fastFirst ? pair : pair.reverse() };
        const result = computeContribution(input);
        expectSoundContribution(input, result);
        const fast = result.assignments.find((item) => item.worker_id === 'fast')!;
        const slow = result.assignments.find((item) => item.worker_id === 'slow')!;
        expect(fast.throughput_multiplier).toBeGreaterThan(1);
        expect(slow.throughput_multiplier).toBeLessThan(1);
        expect(creditUnits(fast.credits)).toBeGreaterThan(creditUnits(slow.credits));
        // Rates are proportional to 1 / time, the median is their mean: multipliers 2 t_s / (t_f + t_s) and
        // 2 t_f / (t_f + t_s), clamped to [0.5, 1.5]. The fast worker's credits follow them to within a unit.
        const [fastMultiplier, slowMultiplier] = [
          Math.min(1.5, (2 * slowTime) / (fastTime + slowTime)),
          Math.max(0.5, (2 * fastTime) / (fastTime + slowTime)),
        ];
        const budget = new Exact(creditUnits(result.job_credit_budget).toString());
        const expectedFast = budget.times(fastMultiplier).div(new Exact(fastMultiplier).plus(slowMultiplier));
        expect(expectedFast.minus(creditUnits(fast.credits).toString()).abs().lt(budget.times(1e-12).plus(1))).toBe(true);
      }),
    );
  });

  it('never pays a faster worker less than an otherwise equal slower one among other workers', () => {
    const crowd = jobs({ maxAssignments: 10 }).chain((input) =>
      fc.tuple(fc.constant(input), fc.integer({ min: 0, max: input.assignments.length - 1 }), fc.integer({ min: 1, max: 5_000_000 }), fc.nat({ max: input.assignments.length })),
    );
    fc.assert(
      fc.property(crowd, ([input, template, extraTime, position]) => {
        const model = input.assignments[template]!;
        const slower = { ...model, worker_id: 'slower', execution_time_ms: Math.max(model.execution_time_ms, 1) + extraTime };
        const assignments = [...input.assignments];
        assignments.splice(position, 0, slower);
        const result = computeContribution({ ...input, assignments });
        const fast = result.assignments.find((item) => item.worker_id === model.worker_id)!;
        const slow = result.assignments.find((item) => item.worker_id === 'slower')!;
        expect(fast.throughput_multiplier).toBeGreaterThanOrEqual(slow.throughput_multiplier);
        if (fast.normalized_contribution_share > slow.normalized_contribution_share) {
          expect(creditUnits(fast.credits)).toBeGreaterThanOrEqual(creditUnits(slow.credits));
        }
      }),
    );
  });

  it('pays more for a larger shard at the same speed per column', () => {
    // Execution time proportional to the shard width keeps the service rates equal (multipliers equal
    // up to rounding); memory proportional to the width keeps the pressures equal. Only the compute
    // share differs, by at least 1 / (a + b) of the budget, far more than a unit.
    const work = fc
      .record({
        widths: fc.uniqueArray(fc.integer({ min: 1, max: 100_000 }), { minLength: 2, maxLength: 2 }),
        extraColumns: fc.integer({ min: 0, max: 100_000 }),
        msPerColumn: fc.integer({ min: 1, max: 100 }),
        capacity: fc.integer({ min: 1, max: 1_000_000 }),
        memoryPerColumn: fc.integer({ min: 1, max: 2 ** 30 }),
        bytes: modelBytes,
        tokens: fc.integer({ min: 1, max: 1_000_000 }),
        largerFirst: fc.boolean(),
      });
    fc.assert(
      fc.property(work, ({ widths, extraColumns, msPerColumn, capacity, memoryPerColumn, bytes, tokens, largerFirst }) => {
        const [small, large] = [Math.min(...widths), Math.max(...widths)];
        const worker = (worker_id: string, width: number) =>
          assignment(worker_id, {
            execution_time_ms: msPerColumn * width,
            assigned_capacity_units: capacity,
            shard_column_start: 0,
            shard_column_end: width,
            available_memory_bytes: memoryPerColumn * width,
          });
        const pair = [worker('large', large), worker('small', small)];
        const input = {
          prompt_tokens: tokens,
          completion_tokens: 0,
          total_model_bytes: bytes,
          total_columns: large + extraColumns,
          assignments: largerFirst ? pair : pair.reverse(),
        };
        const result = computeContribution(input);
        expectSoundContribution(input, result);
        const largeCredit = result.assignments.find((item) => item.worker_id === 'large')!;
        const smallCredit = result.assignments.find((item) => item.worker_id === 'small')!;
        expectClose(largeCredit.measured_service_rate, smallCredit.measured_service_rate, 'equal rates');
        expectClose(largeCredit.memory_pressure, smallCredit.memory_pressure, 'equal pressures');
        expect(largeCredit.compute_share).toBeGreaterThan(smallCredit.compute_share);
        expect(creditUnits(largeCredit.credits)).toBeGreaterThan(creditUnits(smallCredit.credits));
      }),
    );
  });

  it('pays more for higher memory pressure when all else matches', () => {
    // The roomier worker holds its share of the model at a pressure of 1/100..1/1.02; the tighter one
    // has at most 98% of that memory, so its pressure is at least 2% higher (or saturated at 1).
    const squeeze = fc.record({
      bytes: fc.integer({ min: 2 ** 40, max: 2 ** 52 }),
      columns: fc.integer({ min: 1, max: 1_000_000 }),
      widthFraction: fc.double({ min: 0, max: 1, noNaN: true }),
      roomyFactor: fc.double({ min: 1.02, max: 100, noNaN: true }),
      tightFraction: fc.double({ min: 0, max: 0.98, noNaN: true }),
      time: executionTime,
      capacity: fc.integer({ min: 1, max: 1_000_000 }),
      tokens: fc.integer({ min: 1, max: 1_000_000 }),
      tightFirst: fc.boolean(),
    });
    fc.assert(
      fc.property(squeeze, (draw) => {
        const width = Math.max(1, Math.ceil(draw.columns * draw.widthFraction));
        const load = (draw.bytes * width) / draw.columns;
        const roomyMemory = Math.min(SAFE_INTEGER_MAX, Math.ceil(load * draw.roomyFactor));
        const tightMemory = Math.max(1, Math.floor(roomyMemory * draw.tightFraction));
        const worker = (worker_id: string, available_memory_bytes: number) =>
          assignment(worker_id, {
            execution_time_ms: draw.time,
            assigned_capacity_units: draw.capacity,
            shard_column_start: 0,
            shard_column_end: width,
            available_memory_bytes,
          });
        const pair = [worker('tight', tightMemory), worker('roomy', roomyMemory)];
        const input = {
          prompt_tokens: draw.tokens,
          completion_tokens: 0,
          total_model_bytes: draw.bytes,
          total_columns: draw.columns,
          assignments: draw.tightFirst ? pair : pair.reverse(),
        };
        const result = computeContribution(input);
        expectSoundContribution(input, result);
        const tight = result.assignments.find((item) => item.worker_id === 'tight')!;
        const roomy = result.assignments.find((item) => item.worker_id === 'roomy')!;
        expect(roomy.memory_pressure).toBeLessThan(1);
        expect(tight.memory_pressure).toBeGreaterThan(roomy.memory_pressure);
        expect(tight.throughput_multiplier).toBe(roomy.throughput_multiplier);
        expect(creditUnits(tight.credits)).toBeGreaterThan(creditUnits(roomy.credits));
      }),
    );
  });
});

import { describe, expect, it } from 'vitest';
import { allocateDoubleColumns, creditsAt, workerCreditsOf, type WorkerCreditColumns } from '../../src/policy/worker-credit-columns.js';

const COLUMN_NAMES = [
  'compute_share',
  'throughput_multiplier',
  'resource_pressure_multiplier',
  'normalized_contribution_share',
  'measured_service_rate',
  'memory_pressure',
] as const;

describe('allocateDoubleColumns', () => {
  it.each([0, 1, 8, 9, 1000])('gives six zeroed, separate columns of %i doubles', (count) => {
    const columns = allocateDoubleColumns(count);
    COLUMN_NAMES.forEach((name, position) => {
      expect(columns[name]).toHaveLength(count);
      expect(columns[name].every((value) => value === 0)).toBe(true);
      columns[name].fill(position + 1);
    });
    // Each column still holds what was written to it: no two share a double.
    COLUMN_NAMES.forEach((name, position) => expect(columns[name].every((value) => value === position + 1)).toBe(true));
  });
});

describe('workerCreditsOf', () => {
  function columnsOf(credit_units: WorkerCreditColumns['credit_units'], credit_scale: number): WorkerCreditColumns {
    const doubles = allocateDoubleColumns(2);
    COLUMN_NAMES.forEach((name, position) => doubles[name].set([position + 0.25, position + 0.5]));
    return {
      ...doubles,
      count: 2,
      credit_scale,
      assignments: [
        { worker_id: 'a', execution_time_ms: 1, assigned_capacity_units: 1, shard_column_start: 0, shard_column_end: 1, available_memory_bytes: 1 },
        { worker_id: 'b', execution_time_ms: 1, assigned_capacity_units: 1, shard_column_start: 0, shard_column_end: 1, available_memory_bytes: 1 },
      ],
      credit_units,
      reference_service_rate: 7,
    };
  }

  it('builds one object per worker, in order, every field from its column', () => {
    const columns = columnsOf(Float64Array.from([1_500_000_000, 1]), 9);
    expect(workerCreditsOf(columns)).toEqual([
      {
        worker_id: 'a',
        credits: '1.500000000',
        compute_share: 0.25,
        throughput_multiplier: 1.25,
        resource_pressure_multiplier: 2.25,
        normalized_contribution_share: 3.25,
        measured_service_rate: 4.25,
        reference_service_rate: 7,
        memory_pressure: 5.25,
      },
      {
        worker_id: 'b',
        credits: '0.000000001',
        compute_share: 0.5,
        throughput_multiplier: 1.5,
        resource_pressure_multiplier: 2.5,
        normalized_contribution_share: 3.5,
        measured_service_rate: 4.5,
        reference_service_rate: 7,
        memory_pressure: 5.5,
      },
    ]);
  });

  it('formats bigint credit units beyond 2^53 exactly', () => {
    const columns = columnsOf([2n ** 64n, 0n], 2);
    expect(creditsAt(columns, 0)).toBe('184467440737095516.16');
    expect(workerCreditsOf(columns).map((item) => item.credits)).toEqual(['184467440737095516.16', '0.00']);
  });
});

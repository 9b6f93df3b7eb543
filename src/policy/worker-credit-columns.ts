/**
 * The per-worker results of one split, one column per field, index-aligned with the assignments.
 * Columns cost a few flat arrays however many workers there are; a plain object per worker
 * costs a dozen heap allocations each (every double field is boxed), which for a job of 100000
 * workers is tens of megabytes of short-lived memory. Callers that only write the results out,
 * like the HTTP layer, read the columns; `workerCreditsOf` builds the objects for everyone else.
 */
import { formatCreditUnits } from './credit-units.js';
import type { WorkerAssignment, WorkerCredit } from './types.js';

/** Credit units per worker: exact integers as doubles below 2^53, else bigints. */
export type CreditUnitColumn = Float64Array | readonly bigint[];

export interface WorkerCreditColumns {
  readonly count: number;
  readonly credit_scale: number;
  /**
   * The job's own assignment list, read for worker ids rather than copied: a copy of 100000
   * pointers is a fresh large array on every call. A caller that changes its input after the
   * call sees the change in the worker ids of objects built afterwards.
   */
  readonly assignments: readonly WorkerAssignment[];
  readonly credit_units: CreditUnitColumn;
  readonly compute_share: Float64Array;
  readonly throughput_multiplier: Float64Array;
  readonly resource_pressure_multiplier: Float64Array;
  readonly normalized_contribution_share: Float64Array;
  readonly measured_service_rate: Float64Array;
  /** The median measured rate: one value for the whole job. */
  readonly reference_service_rate: number;
  readonly memory_pressure: Float64Array;
}

/** The six per-worker double columns, carved from one buffer so a split allocates once. */
export interface DoubleColumns {
  readonly compute_share: Float64Array;
  readonly throughput_multiplier: Float64Array;
  readonly resource_pressure_multiplier: Float64Array;
  readonly normalized_contribution_share: Float64Array;
  readonly measured_service_rate: Float64Array;
  readonly memory_pressure: Float64Array;
}

const DOUBLE_COLUMN_COUNT = 6;
/**
 * V8 keeps typed arrays of up to 64 bytes on its own heap and gives larger ones an off-heap
 * buffer, which costs far more to create: small jobs get six small arrays, larger jobs one
 * buffer for all six columns.
 */
const ON_HEAP_COLUMN_COUNT_MAX = 64 / Float64Array.BYTES_PER_ELEMENT;

export function allocateDoubleColumns(count: number): DoubleColumns {
  let column: (position: number) => Float64Array;
  if (count <= ON_HEAP_COLUMN_COUNT_MAX) {
    column = () => new Float64Array(count);
  } else {
    const buffer = new ArrayBuffer(count * DOUBLE_COLUMN_COUNT * Float64Array.BYTES_PER_ELEMENT);
    column = (position) => new Float64Array(buffer, position * count * Float64Array.BYTES_PER_ELEMENT, count);
  }
  return {
    compute_share: column(0),
    throughput_multiplier: column(1),
    resource_pressure_multiplier: column(2),
    normalized_contribution_share: column(3),
    measured_service_rate: column(4),
    memory_pressure: column(5),
  };
}

/** The credits of one worker as the decimal string the wire carries. */
export function creditsAt(columns: WorkerCreditColumns, index: number): string {
  return formatCreditUnits(columns.credit_units[index]!, columns.credit_scale);
}

/** One plain object per worker from `start` up to `end` (exclusive), in input order. */
export function workerCreditsOf(columns: WorkerCreditColumns, start = 0, end = columns.count): WorkerCredit[] {
  const workerCredits = new Array<WorkerCredit>(end - start);
  for (let index = start; index < end; index += 1) {
    workerCredits[index - start] = {
      worker_id: columns.assignments[index]!.worker_id,
      credits: creditsAt(columns, index),
      compute_share: columns.compute_share[index]!,
      throughput_multiplier: columns.throughput_multiplier[index]!,
      resource_pressure_multiplier: columns.resource_pressure_multiplier[index]!,
      normalized_contribution_share: columns.normalized_contribution_share[index]!,
      measured_service_rate: columns.measured_service_rate[index]!,
      reference_service_rate: columns.reference_service_rate,
      memory_pressure: columns.memory_pressure[index]!,
    };
  }
  return workerCredits;
}

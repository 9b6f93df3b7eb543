/**
 * The model's factors for one worker, one function each, as the original states them:
 *
 *   shard_fraction               = (shard_column_end - shard_column_start) / total_columns
 *   compute_units                = assigned_capacity_units x shard_fraction
 *   measured_service_rate        = compute_units / max(execution_time_ms / 1000, min_execution_time_secs)
 *   memory_pressure              = clamp(total_model_bytes x shard_fraction / available_memory_bytes, 0, 1)
 *   reference_service_rate       = max(median(measured_service_rate), reference_service_rate_min)
 *   throughput_multiplier        = clamp(measured_service_rate / reference_service_rate, min, max)
 *   resource_pressure_multiplier = resource_multiplier_base + resource_multiplier_span x memory_pressure
 *
 * The original also floors values that the input rules and the parameter ranges keep away from
 * their floors, so they are not repeated here (test/policy/model-floors.test.ts shows each bound):
 * - shard columns at 1, total_columns at 1, capacity at 1, and no memory read as full pressure:
 *   the rules refuse empty shards, zero columns, zero capacity and zero memory;
 * - shard_fraction at 2^-52: it is at least 1 / (2^32 - 1), about 2.3e-10;
 * - the compute-unit total at 2^-52: it is at least one worker's units, at least 2.3e-10;
 * - the weight total at 2^-52: the compute shares sum to 1, so the weights sum to at least
 *   throughput_multiplier_min x resource_multiplier_base, which the ranges keep at 1e-12 or more.
 * Only the reference rate's floor can bind for valid input: a median rate below 2^-52 comes from
 * one-column shards of a huge model run for a long time, down to about 2.6e-23.
 */
import type { PolicyParameters } from './parameters.js';
import type { WorkerAssignment } from './types.js';

export function shardFraction(assignment: WorkerAssignment, total_columns: number): number {
  return (assignment.shard_column_end - assignment.shard_column_start) / total_columns;
}

export function computeUnits(assignment: WorkerAssignment, shard_fraction: number): number {
  return assignment.assigned_capacity_units * shard_fraction;
}

export function measuredServiceRate(assignment: WorkerAssignment, compute_units: number, parameters: PolicyParameters): number {
  return compute_units / Math.max(assignment.execution_time_ms / 1000, parameters.min_execution_time_secs);
}

export function memoryPressure(assignment: WorkerAssignment, total_model_bytes: number, shard_fraction: number): number {
  return clamp((total_model_bytes * shard_fraction) / assignment.available_memory_bytes, 0, 1);
}

/** The median of the measured rates, floored as the original floors it. */
export function referenceServiceRate(median_service_rate: number, parameters: PolicyParameters): number {
  return Math.max(median_service_rate, parameters.reference_service_rate_min);
}

export function throughputMultiplier(measured_service_rate: number, reference_service_rate: number, parameters: PolicyParameters): number {
  return clamp(measured_service_rate / reference_service_rate, parameters.throughput_multiplier_min, parameters.throughput_multiplier_max);
}

export function resourcePressureMultiplier(memory_pressure: number, parameters: PolicyParameters): number {
  return parameters.resource_multiplier_base + parameters.resource_multiplier_span * memory_pressure;
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(Math.max(value, low), high);
}

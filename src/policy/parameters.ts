import {
  ASSIGNMENTS_MAX_DEFAULT,
  BYTES_PER_GIB,
  CREDIT_SCALE_DEFAULT,
  CREDIT_SCALE_MAX,
  CREDIT_SCALE_MIN,
} from './limits.js';

/** The constants of the credit model. A change of any value is a new `version`. */
export interface PolicyParameters {
  readonly version: string;
  readonly model_size_scale_gib: number;
  readonly min_execution_time_secs: number;
  readonly throughput_multiplier_min: number;
  readonly throughput_multiplier_max: number;
  readonly resource_multiplier_base: number;
  readonly resource_multiplier_span: number;
}

/** What a deployment chooses around the model: the money scale and the size bound of a job. */
export interface PolicySettings {
  readonly parameters: PolicyParameters;
  readonly credit_scale: number;
  readonly max_assignments: number;
}

export const DEFAULT_POLICY_PARAMETERS: PolicyParameters = Object.freeze({
  version: 'divy-credit-1',
  model_size_scale_gib: 32,
  min_execution_time_secs: 0.001,
  throughput_multiplier_min: 0.5,
  throughput_multiplier_max: 1.5,
  resource_multiplier_base: 0.85,
  resource_multiplier_span: 0.3,
});

export const DEFAULT_POLICY_SETTINGS: PolicySettings = Object.freeze({
  parameters: DEFAULT_POLICY_PARAMETERS,
  credit_scale: CREDIT_SCALE_DEFAULT,
  max_assignments: ASSIGNMENTS_MAX_DEFAULT,
});

/**
 * Lists what is wrong with a settings object (empty when it is sound). Settings come from
 * configuration, so a deployment checks them once at start and refuses to run on bad ones.
 */
export function settingsProblems(settings: PolicySettings): string[] {
  const problems: string[] = [];
  const parameters = settings.parameters;
  if (parameters.version.length === 0) problems.push('version must not be empty');
  const scaleBytes = parameters.model_size_scale_gib * BYTES_PER_GIB;
  if (!(scaleBytes >= 1 && Number.isSafeInteger(scaleBytes))) {
    problems.push('model_size_scale_gib must be positive and a whole number of bytes (GiB = 2^30 bytes)');
  }
  if (!(parameters.min_execution_time_secs > 0 && Number.isFinite(parameters.min_execution_time_secs))) {
    problems.push('min_execution_time_secs must be a positive finite number');
  }
  const { throughput_multiplier_min: low, throughput_multiplier_max: high } = parameters;
  if (!(low > 0 && low <= high && Number.isFinite(high))) {
    problems.push('throughput_multiplier_min must be positive and at most throughput_multiplier_max');
  }
  const { resource_multiplier_base: base, resource_multiplier_span: span } = parameters;
  if (!(base > 0 && span >= 0 && Number.isFinite(base + span))) {
    problems.push('resource_multiplier_base must be positive and resource_multiplier_span non-negative');
  }
  const scale = settings.credit_scale;
  if (!(Number.isInteger(scale) && scale >= CREDIT_SCALE_MIN && scale <= CREDIT_SCALE_MAX)) {
    problems.push(`credit_scale must be an integer from ${CREDIT_SCALE_MIN} to ${CREDIT_SCALE_MAX}`);
  }
  if (!(Number.isSafeInteger(settings.max_assignments) && settings.max_assignments >= 1)) {
    problems.push('max_assignments must be a positive integer');
  }
  return problems;
}

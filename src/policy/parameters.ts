/**
 * The constants of the credit model, described once: each parameter's default (the original
 * model's value), the range a policy may set it to, its unit and its meaning. The parameters
 * type, the policy file's schema, the policy document and the published descriptions all read
 * this table.
 */
import {
  ASSIGNMENTS_MAX_CEILING,
  ASSIGNMENTS_MAX_DEFAULT,
  BYTES_PER_GIB,
  CREDIT_SCALE_DEFAULT,
  CREDIT_SCALE_MAX,
  CREDIT_SCALE_MIN,
} from './limits.js';

export interface ParameterSpec {
  readonly default: number;
  /** Inclusive bounds. They keep every ratio finite and every weight positive (see worker-factors.ts). */
  readonly min: number;
  readonly max: number;
  readonly unit: string;
  readonly description: string;
}

export const PARAMETER_SPECS = {
  model_size_scale_gib: {
    default: 32,
    min: 1 / BYTES_PER_GIB,
    max: 2 ** 22,
    unit: 'GiB',
    description: 'Model size at which the price per token starts to grow: model_size_factor = max(1, total_model_bytes / this). A whole number of bytes.',
  },
  min_execution_time_secs: {
    default: 0.001,
    min: 1e-9,
    max: 1e6,
    unit: 'seconds',
    description: 'Floor of a worker\'s execution time in its measured service rate.',
  },
  reference_service_rate_min: {
    default: 2 ** -52,
    min: 0,
    max: 1,
    unit: 'compute units per second',
    description: 'Floor of the reference service rate (the median measured rate); the model\'s f64::EPSILON.',
  },
  throughput_multiplier_min: {
    default: 0.5,
    min: 1e-6,
    max: 1e6,
    unit: 'ratio',
    description: 'Lower clamp of the throughput multiplier; at most throughput_multiplier_max.',
  },
  throughput_multiplier_max: {
    default: 1.5,
    min: 1e-6,
    max: 1e6,
    unit: 'ratio',
    description: 'Upper clamp of the throughput multiplier.',
  },
  resource_multiplier_base: {
    default: 0.85,
    min: 1e-6,
    max: 1e6,
    unit: 'ratio',
    description: 'Resource pressure multiplier at no memory pressure.',
  },
  resource_multiplier_span: {
    default: 0.3,
    min: 0,
    max: 1e6,
    unit: 'ratio',
    description: 'What full memory pressure adds to the resource pressure multiplier.',
  },
} as const satisfies Record<string, ParameterSpec>;

export type ParameterName = keyof typeof PARAMETER_SPECS;

export const PARAMETER_NAMES = Object.keys(PARAMETER_SPECS) as readonly ParameterName[];

/** The constants of the credit model. A change of any value is a new `version`. */
export type PolicyParameters = { readonly version: string } & { readonly [Name in ParameterName]: number };

/** What a deployment chooses around the model: the money scale and the size bound of a job. */
export interface PolicySettings {
  readonly parameters: PolicyParameters;
  readonly credit_scale: number;
  readonly max_assignments: number;
}

export const DEFAULT_POLICY_VERSION = 'divy-credit-1';

export const DEFAULT_POLICY_PARAMETERS: PolicyParameters = Object.freeze({
  version: DEFAULT_POLICY_VERSION,
  ...(Object.fromEntries(PARAMETER_NAMES.map((name) => [name, PARAMETER_SPECS[name].default])) as Record<ParameterName, number>),
});

export const DEFAULT_POLICY_SETTINGS: PolicySettings = Object.freeze({
  parameters: DEFAULT_POLICY_PARAMETERS,
  credit_scale: CREDIT_SCALE_DEFAULT,
  max_assignments: ASSIGNMENTS_MAX_DEFAULT,
});

/** The rule a parameter outside its range breaks. */
export function parameterRule(name: ParameterName): string {
  const spec: ParameterSpec = PARAMETER_SPECS[name];
  return `must be a number from ${spec.min} to ${spec.max}`;
}

/**
 * Lists what is wrong with a settings object (empty when it is sound). Settings come from
 * configuration, so a deployment checks them once at start and refuses to run on bad ones.
 */
export function settingsProblems(settings: PolicySettings): string[] {
  const problems: string[] = [];
  const { parameters } = settings;
  if (typeof parameters.version !== 'string' || parameters.version.length === 0) problems.push('version must not be empty');
  for (const name of PARAMETER_NAMES) {
    const value = parameters[name];
    const spec: ParameterSpec = PARAMETER_SPECS[name];
    if (!(typeof value === 'number' && value >= spec.min && value <= spec.max)) problems.push(`${name} ${parameterRule(name)}`);
  }
  if (!Number.isInteger(parameters.model_size_scale_gib * BYTES_PER_GIB)) {
    problems.push('model_size_scale_gib must be a whole number of bytes (GiB = 2^30 bytes)');
  }
  if (!(parameters.throughput_multiplier_min <= parameters.throughput_multiplier_max)) {
    problems.push('throughput_multiplier_min must be at most throughput_multiplier_max');
  }
  const scale = settings.credit_scale;
  if (!(Number.isInteger(scale) && scale >= CREDIT_SCALE_MIN && scale <= CREDIT_SCALE_MAX)) {
    problems.push(`credit_scale must be an integer from ${CREDIT_SCALE_MIN} to ${CREDIT_SCALE_MAX}`);
  }
  const assignments = settings.max_assignments;
  if (!(Number.isInteger(assignments) && assignments >= 1 && assignments <= ASSIGNMENTS_MAX_CEILING)) {
    problems.push(`max_assignments must be an integer from 1 to ${ASSIGNMENTS_MAX_CEILING}`);
  }
  return problems;
}

export { quoteConsumption, settleConsumption } from './consumption.js';
export { computeContribution } from './contribution.js';
export { computeRealtimeDelta } from './realtime-delta.js';
export { PolicyInputError, type PolicyViolation } from './errors.js';
export {
  DEFAULT_POLICY_PARAMETERS,
  DEFAULT_POLICY_SETTINGS,
  DEFAULT_POLICY_VERSION,
  PARAMETER_NAMES,
  PARAMETER_SPECS,
  parameterRule,
  settingsProblems,
  type ParameterName,
  type ParameterSpec,
  type PolicyParameters,
  type PolicySettings,
} from './parameters.js';
export * from './limits.js';
export * from './input-ranges.js';
export type * from './types.js';

export { quoteConsumption } from './consumption.js';
export { settleConsumption } from './settlement.js';
export { computeContribution } from './contribution.js';
export { computeRealtimeDelta } from './realtime-delta.js';
export { PolicyInputError, ReservationExceededError, type PolicyViolation } from './errors.js';
export { catalogOf, catalogOfOne, catalogProblems, priceByVersion, settingsFor, POLICY_VERSION_PATH, type PolicyCatalog } from './catalog.js';
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
export { CREDIT_AMOUNT_WHOLE_DIGITS_MAX } from './credit-units.js';
export { assignmentCountRule, VIOLATIONS_LISTED_MAX } from './input-rules.js';
export type * from './types.js';

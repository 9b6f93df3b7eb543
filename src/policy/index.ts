export { quoteConsumption, settleConsumption } from './consumption.js';
export { computeContribution } from './contribution.js';
export { computeRealtimeDelta } from './realtime-delta.js';
export { PolicyInputError, type PolicyViolation } from './errors.js';
export {
  DEFAULT_POLICY_PARAMETERS,
  DEFAULT_POLICY_SETTINGS,
  settingsProblems,
  type PolicyParameters,
  type PolicySettings,
} from './parameters.js';
export * from './limits.js';
export type * from './types.js';
export { workerCreditColumnsOf } from './contribution-result.js';
export { workerCreditsOf, type CreditUnitColumn, type WorkerCreditColumns } from './worker-credit-columns.js';

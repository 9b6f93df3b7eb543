/**
 * The policies a deployment serves side by side. A job is priced by one policy from quote to
 * settlement: it names its version in every request, so a policy rolled out while it runs does not
 * break its sums. Requests that name none get the current policy.
 */
import { PolicyInputError, ReservationExceededError, type PolicyViolation } from './errors.js';
import { isWellFormedText, WELL_FORMED_RULE } from './input-ranges.js';
import { VIOLATIONS_LISTED_MAX } from './input-rules.js';
import { settingsProblems, type PolicyParameters, type PolicySettings } from './parameters.js';

export interface PolicyCatalog {
  readonly current: string;
  /** Every policy by its version, in the order the deployment listed them. */
  readonly policies: ReadonlyMap<string, PolicySettings>;
}

/** The catalog of a deployment that serves one policy. */
export function catalogOfOne(settings: PolicySettings): PolicyCatalog {
  return { current: settings.parameters.version, policies: new Map([[settings.parameters.version, settings]]) };
}

/** A catalog of several parameter sets that share the deployment's credit scale and job size bound. */
export function catalogOf(
  current: string,
  parameters: readonly PolicyParameters[],
  deployment: Omit<PolicySettings, 'parameters'>,
): PolicyCatalog {
  return { current, policies: new Map(parameters.map((each) => [each.version, { ...deployment, parameters: each }])) };
}

/** Lists what is wrong with a catalog (empty when it is sound); a deployment refuses to start on any. */
export function catalogProblems(current: string, parameters: readonly PolicyParameters[], deployment: Omit<PolicySettings, 'parameters'>): string[] {
  const problems: string[] = [];
  if (parameters.length === 0) problems.push('policies must hold at least one policy');
  const versions = parameters.map((each) => each.version);
  const repeated = versions.filter((version, index) => versions.indexOf(version) !== index);
  if (repeated.length > 0) problems.push(`versions must be unique: ${[...new Set(repeated)].join(', ')} repeated`);
  if (parameters.length > 0 && !versions.includes(current)) problems.push(`current (${current}) must be one of the versions: ${versions.join(', ')}`);
  parameters.forEach((each, index) => {
    const where = parameters.length === 1 ? '' : `policies[${index}] (${each.version}): `;
    problems.push(...settingsProblems({ ...deployment, parameters: each }).map((problem) => `${where}${problem}`));
  });
  return problems;
}

export const POLICY_VERSION_PATH = '/policy_version';

/** The settings of the version a request names (the current one when it names none). */
export function settingsFor(catalog: PolicyCatalog, policy_version: string | undefined): PolicySettings {
  const settings = catalog.policies.get(policy_version ?? catalog.current);
  if (settings !== undefined) return settings;
  throw new PolicyInputError([unknownVersion(catalog, policy_version)]);
}

/**
 * Prices a request by the version it names. For an unknown version, the rest of the request is
 * still checked, under the current policy, so that one answer names every broken rule.
 */
export function priceByVersion<Result>(catalog: PolicyCatalog, policy_version: string | undefined, price: (settings: PolicySettings) => Result): Result {
  const settings = catalog.policies.get(policy_version ?? catalog.current);
  if (settings !== undefined) return price(settings);
  const unknown = unknownVersion(catalog, policy_version);
  try {
    price(settingsFor(catalog, undefined));
  } catch (error) {
    if (error instanceof PolicyInputError) {
      throw new PolicyInputError([unknown, ...error.violations].slice(0, VIOLATIONS_LISTED_MAX), error.violation_count + 1);
    }
    // Whether the job fits its reservation is for the policy it names to say.
    if (!(error instanceof ReservationExceededError)) throw error;
  }
  throw new PolicyInputError([unknown]);
}

/** A version no policy has; one that is not even well-formed Unicode is told so rather than listed against. */
function unknownVersion(catalog: PolicyCatalog, policy_version: string | undefined): PolicyViolation {
  if (policy_version !== undefined && !isWellFormedText(policy_version)) return { path: POLICY_VERSION_PATH, message: WELL_FORMED_RULE };
  const known = [...catalog.policies.keys()].join(', ');
  return { path: POLICY_VERSION_PATH, message: `must be one of the versions this service knows: ${known}` };
}

/**
 * The policies a deployment serves side by side. A job is priced by one policy from quote to
 * settlement: it names its version in every request, so a policy rolled out while it runs does not
 * break its sums. Requests that name none get the current policy.
 */
import { PolicyInputError } from './errors.js';
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
  const known = [...catalog.policies.keys()].join(', ');
  throw new PolicyInputError([{ path: POLICY_VERSION_PATH, message: `must be one of the versions this service knows: ${known}` }]);
}

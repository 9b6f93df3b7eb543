/**
 * The one schema of the policy parameters, built from the policy's table: it parses a policy
 * file and documents GET /policy, and its type is the policy's own PolicyParameters.
 */
import { z } from 'zod';
import {
  DEFAULT_POLICY_VERSION,
  PARAMETER_NAMES,
  PARAMETER_SPECS,
  parameterRule,
  type ParameterName,
  type PolicyParameters,
} from '../../policy/index.js';
import { described, type SchemaDocs } from './docs.js';

export function policyParametersSchema(docs: SchemaDocs) {
  const fields = Object.fromEntries(
    PARAMETER_NAMES.map((name) => {
      const spec = PARAMETER_SPECS[name];
      // The policy's own wording of the rule, as the settings check states it.
      const rule = { error: parameterRule(name) };
      const field = described(docs, z.number(rule).min(spec.min, rule).max(spec.max, rule), {
        description: `${spec.description} In ${spec.unit}, from ${spec.min} to ${spec.max}; the original model's value is ${spec.default}.`,
        example: spec.default,
      });
      return [name, field];
    }),
  ) as Record<ParameterName, z.ZodNumber>;
  const version = described(docs, z.string({ error: 'must be a non-empty string' }).min(1, { error: 'must be a non-empty string' }), {
    description: 'Names this set of parameters: a change of any value is a new version.',
    example: DEFAULT_POLICY_VERSION,
  });
  // The policy's type and this schema's describe the same object.
  return z.strictObject({ version, ...fields }) satisfies z.ZodType<PolicyParameters>;
}

/** A policy file: it names its own version and overrides any of the default parameters. */
export function policyFileSchema(docs: SchemaDocs) {
  const parameters = policyParametersSchema(docs);
  return parameters.partial().extend({ version: parameters.shape.version });
}

/** Most policies one deployment serves side by side: enough for a rollout, few enough to read. */
export const POLICIES_MAX = 32;

/** A policy file that lists several policies, each naming its own version, and which is current. */
export function policyCatalogFileSchema(docs: SchemaDocs) {
  return z.strictObject({
    current: z.string({ error: 'must be a non-empty string' }).min(1, { error: 'must be a non-empty string' }),
    policies: z
      .array(policyFileSchema(docs), { error: 'must be a list of policies' })
      .min(1, { error: 'must hold at least one policy' })
      .max(POLICIES_MAX, { error: `must hold at most ${POLICIES_MAX} policies` }),
  });
}

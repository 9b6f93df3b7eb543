/** Schemas of the operational endpoints: policy introspection and health. */
import { z } from 'zod';
import type { PolicyCatalog, PolicySettings } from '../../policy/index.js';
import { policyVersionField } from './consumption.js';
import type { SchemaContext } from './context.js';
import { described } from './docs.js';
import { policyParametersSchema } from './policy-parameters.js';

/** One policy as GET /policy/{version} answers it. */
export function policyVersionDocumentOf(settings: PolicySettings, current: boolean) {
  const { version, ...parameters } = settings.parameters;
  return { policy_version: version, current, credit_scale: settings.credit_scale, max_assignments: settings.max_assignments, parameters };
}

/** What GET /policy answers: the current policy, and every policy served. */
export function policyDocumentOf(catalog: PolicyCatalog) {
  const { current: _current, ...currentPolicy } = policyVersionDocumentOf(catalog.policies.get(catalog.current)!, true);
  const policies = [...catalog.policies.values()].map((settings) => {
    const { credit_scale: _scale, max_assignments: _max, ...policy } = policyVersionDocumentOf(settings, settings.parameters.version === catalog.current);
    return policy;
  });
  return { ...currentPolicy, policies };
}

export function serviceSchemas(context: SchemaContext, catalog: PolicyCatalog) {
  const { docs, settings } = context;
  const fields = {
    policy_version: policyVersionField(context),
    credit_scale: described(docs, z.number(), { type: 'integer', description: 'Fraction digits of every credit amount.', example: settings.credit_scale }),
    max_assignments: described(docs, z.number(), { type: 'integer', description: 'Most assignments one request may carry.', example: settings.max_assignments }),
    parameters: described(docs, policyParametersSchema(docs).omit({ version: true }), {
      description: 'The constants of the credit model; a change of any of them is a new policy_version.',
    }),
  };
  const current = described(docs, z.boolean(), { description: 'Whether requests that name no policy_version get this one.', example: true });
  const policyDocument = described(
    docs,
    z.object({
      ...fields,
      policies: described(docs, z.array(z.object({ policy_version: fields.policy_version, current, parameters: fields.parameters })), {
        description: 'Every policy this service prices by, in the order configured; a job names its version in every request.',
      }),
    }),
    { id: 'PolicyDocument', description: 'The current credit policy, and every policy served.', examples: [policyDocumentOf(catalog)] },
  );
  const policyVersionDocument = described(docs, z.object({ ...fields, current }), {
    id: 'PolicyVersion',
    description: 'One credit policy.',
    examples: [policyVersionDocumentOf(settings, true)],
  });
  const health = described(
    docs,
    z.object({ status: described(docs, z.enum(['ok', 'ready']), { description: 'ok: the process is alive; ready: it takes traffic.' }) }),
    { id: 'Health' },
  );
  return { policyDocument, policyVersionDocument, versionParameter: described(docs, z.string(), { description: 'A policy version.', example: settings.parameters.version }), health };
}

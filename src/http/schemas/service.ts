/** Schemas of the operational endpoints: policy introspection and health. */
import { z } from 'zod';
import { policyVersionField } from './consumption.js';
import type { PolicySettings } from '../../policy/index.js';
import type { SchemaContext } from './context.js';
import { described } from './docs.js';
import { policyParametersSchema } from './policy-parameters.js';

export function serviceSchemas(context: SchemaContext) {
  const { docs, settings } = context;
  const policyDocument = described(
    docs,
    z.object({
      policy_version: policyVersionField(context),
      credit_scale: described(docs, z.number(), { type: 'integer', description: 'Fraction digits of every credit amount.', example: settings.credit_scale }),
      max_assignments: described(docs, z.number(), { type: 'integer', description: 'Most assignments one request may carry.', example: settings.max_assignments }),
      parameters: described(docs, policyParametersSchema(docs).omit({ version: true }), {
        description: 'The constants of the credit model; a change of any of them is a new policy_version.',
      }),
    }),
    { id: 'PolicyDocument', description: 'The active credit policy.', examples: [policyDocumentOf(settings)] },
  );
  const health = described(
    docs,
    z.object({ status: described(docs, z.enum(['ok', 'ready']), { description: 'ok: the process is alive; ready: it takes traffic.' }) }),
    { id: 'Health' },
  );
  return { policyDocument, health };
}

/** What GET /policy answers for these settings. */
export function policyDocumentOf(settings: PolicySettings) {
  const { version, ...parameters } = settings.parameters;
  return { policy_version: version, credit_scale: settings.credit_scale, max_assignments: settings.max_assignments, parameters };
}

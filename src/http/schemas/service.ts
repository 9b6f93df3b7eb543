/** Schemas of the operational endpoints: policy introspection and health. */
import { z } from 'zod';
import type { PolicyCatalog, PolicySettings } from '../../policy/index.js';
import { NOT_READY_PROBLEM, PROBLEM_TYPES, type ProblemFields } from '../problem.js';
import { policyVersionField } from './consumption.js';
import type { SchemaContext } from './context.js';
import { described } from './docs.js';
import { policyParametersSchema } from './policy-parameters.js';
import { exampleProblem } from './problem-examples.js';
import type { ProblemSchemas } from './problem.js';

/** A version no deployment serves, for the documented 404. */
const UNKNOWN_VERSION_EXAMPLE = 'divy-credit-0';

/** What GET /policy/{version} answers for a version the catalog does not hold. */
export function unknownPolicyVersion(catalog: PolicyCatalog, version: string): ProblemFields {
  return {
    type: PROBLEM_TYPES.notFound,
    title: 'Not Found',
    status: 404,
    detail: `No policy has version ${JSON.stringify(version)}; the known versions are ${[...catalog.policies.keys()].join(', ')}.`,
  };
}

/** What /readyz answers while the replica drains before it shuts down (src/app.ts). */
const DRAINING_EXAMPLE = exampleProblem(NOT_READY_PROBLEM);

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

export function serviceSchemas(context: SchemaContext, catalog: PolicyCatalog, problems: ProblemSchemas) {
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
  // Each route's own words and example for its 200 answer: a bare component would read "Default Response".
  const healthResponse = (description: string, status: 'ok' | 'ready') => ({ description, content: { 'application/json': { schema: health, example: { status } } } });
  return {
    policyDocument: described(docs, policyDocument, { description: 'The current policy, every policy served, and the credit scale.' }),
    policyVersionDocument: described(docs, policyVersionDocument, { description: 'The policy of that version.' }),
    versionParameter: described(docs, z.string(), { description: 'A policy version.', example: settings.parameters.version }),
    health,
    unknownVersion: problems.response(
      'No policy has that version; the detail lists the known ones.',
      exampleProblem(unknownPolicyVersion(catalog, UNKNOWN_VERSION_EXAMPLE)),
    ),
    alive: healthResponse('The process answers.', 'ok'),
    ready: healthResponse('The service takes traffic.', 'ready'),
    draining: problems.response('The service is shutting down.', DRAINING_EXAMPLE),
  };
}

import { z } from 'zod';
import { settleConsumption } from '../../policy/index.js';
import { completionTokensField, consumptionFieldsOf } from './consumption.js';
import type { ContributionSchemas } from './contribution.js';
import type { SchemaContext } from './context.js';
import { described } from './docs.js';
import { exampleSettings, SETTLE_EXAMPLE } from './examples.js';
import { integerField } from './fields.js';
import type { JobSchemas } from './job.js';
import type { LedgerSchemas } from './ledger.js';
import { REFUSED_REQUESTS, refusalOf, schemaRefusalOf } from './problem-examples.js';
import type { ProblemSchemas } from './problem.js';

export function settlementSchemas(
  context: SchemaContext,
  job: JobSchemas,
  contribution: ContributionSchemas,
  ledger: LedgerSchemas,
  problems: ProblemSchemas,
) {
  const { docs, settings } = context;
  const priced = exampleSettings(settings);
  const example = settleConsumption(SETTLE_EXAMPLE, priced);
  const settlement = described(
    docs,
    z.object({
      ...consumptionFieldsOf(context, example),
      reconciliation: described(docs, ledger.reconciliation.optional(), { description: 'With reserved_completion_tokens: the settlement against the reservation.' }),
      contribution: described(docs, contribution.contribution.optional(), {
        description: 'With assignments and a final delta to burn: the final delta, split among the workers.',
      }),
      job_id: described(docs, z.string().optional(), { description: 'With job_id: the job, as in the request.', example: SETTLE_EXAMPLE.job_id }),
      delta_id: described(docs, ledger.deltaId.optional(), {
        description: 'With job_id: the id of the final delta, the one a realtime delta over the same counters would have.',
        example: example.delta_id,
      }),
      postings: described(docs, ledger.postings.optional(), {
        description: 'With job_id: the final delta\'s payouts and the release of the unused reservation to the submitter.',
      }),
    }),
    { id: 'Settlement', description: 'What the job consumed and, against its reservation, what to burn and release.', examples: [example] },
  );
  const settleRequest = described(
    docs,
    z.strictObject({
      prompt_tokens: job.promptTokens,
      actual_completion_tokens: completionTokensField(
        context,
        'actual_completion_tokens',
        'Completion tokens the job actually produced',
        SETTLE_EXAMPLE.actual_completion_tokens,
      ),
      total_model_bytes: job.totalModelBytes,
      reserved_completion_tokens: job.reservedCompletionTokens,
      accounted_completion_tokens: integerField(
        docs,
        'accounted_completion_tokens',
        'Completion tokens the stream already burned (tokens); at most actual_completion_tokens. Needs reserved_completion_tokens.',
        SETTLE_EXAMPLE.accounted_completion_tokens ?? 0,
      ).optional(),
      prompt_credits_accounted: described(docs, z.boolean().optional(), {
        description: 'Whether the stream already burned the prompt\'s credits. Needs reserved_completion_tokens.',
        example: SETTLE_EXAMPLE.prompt_credits_accounted,
      }),
      total_columns: job.totalColumns.optional(),
      assignments: described(docs, job.assignments.optional(), {
        description: 'The workers the final delta is paid to, with total_columns. Needed when a reconciliation has a final delta to burn.',
      }),
      job_id: job.jobId,
      policy_version: job.policyVersion,
    }),
    { description: 'A finished job to price and, with its reservation, to reconcile.', examples: [SETTLE_EXAMPLE] },
  );
  const refused = REFUSED_REQUESTS['/settle'];
  return {
    settleRequest,
    // The route's own words for its 200 answer: a bare component would read "Default Response".
    settleResponse: described(docs, settlement, {
      description: 'The credits the job consumed and, with its reservation, what to burn and release.',
    }),
    problemResponses: {
      ...problems.bodyResponses({
        400: schemaRefusalOf(settleRequest, refused[400]),
        422: refusalOf(() => settleConsumption(refused[422], priced), refused[422]),
      }),
      409: problems.reservationExceeded(refusalOf(() => settleConsumption(refused[409], priced), refused[409])),
    },
  };
}

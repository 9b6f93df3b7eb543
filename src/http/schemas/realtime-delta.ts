import { z } from 'zod';
import { computeRealtimeDelta, REQUEST_TOKENS_MAX } from '../../policy/index.js';
import { policyVersionField } from './consumption.js';
import type { ContributionSchemas } from './contribution.js';
import type { SchemaContext } from './context.js';
import { described } from './docs.js';
import { exampleSettings, REALTIME_DELTA_EXAMPLE } from './examples.js';
import { integerField } from './fields.js';
import type { JobSchemas } from './job.js';
import type { LedgerSchemas } from './ledger.js';
import { REFUSED_REQUESTS, refusalOf, schemaRefusalOf } from './problem-examples.js';
import type { ProblemSchemas } from './problem.js';
import { workerCreditsCsvMedia } from './worker-credits-csv.js';

export function realtimeDeltaSchemas(
  context: SchemaContext,
  job: JobSchemas,
  consumption: z.ZodType,
  contribution: ContributionSchemas,
  ledger: LedgerSchemas,
  problems: ProblemSchemas,
) {
  const { docs, settings } = context;
  const frontier = integerField(
    docs,
    'frontier_completion_tokens',
    `Completion tokens produced so far (tokens). prompt_tokens + frontier_completion_tokens is at most ${REQUEST_TOKENS_MAX}.`,
    REALTIME_DELTA_EXAMPLE.frontier_completion_tokens,
  );
  const priced = exampleSettings(settings);
  const example = computeRealtimeDelta(REALTIME_DELTA_EXAMPLE, priced)!;
  const realtimeDelta = described(
    docs,
    z.object({
      policy_version: policyVersionField(context),
      prompt_tokens_delta: integerField(docs, 'prompt_tokens', 'Prompt tokens accounted by this delta: all of them once, then 0 (tokens).', example.prompt_tokens_delta),
      completion_tokens_delta: integerField(
        docs,
        'frontier_completion_tokens',
        'frontier_completion_tokens - accounted_completion_tokens (tokens).',
        example.completion_tokens_delta,
      ),
      frontier_completion_tokens: frontier,
      contribution: described(docs, contribution.contribution, {
        description: 'The burned credits, split among the workers: its budget equals consumption.total_credits.',
      }),
      consumption: described(docs, consumption, { description: 'The credits to burn from the submitter for the new tokens.' }),
      reservation: described(docs, ledger.reservation.optional(), { description: 'With reserved_completion_tokens: the reservation once this delta is burned.' }),
      job_id: described(docs, z.string().optional(), { description: 'With job_id: the job, as in the request.', example: REALTIME_DELTA_EXAMPLE.job_id }),
      delta_id: described(docs, ledger.deltaId.optional(), { description: 'With job_id: the id of this delta.' }),
      postings: described(docs, ledger.postings.optional(), { description: 'With job_id: this delta\'s payouts, from the job\'s reservation to each worker.' }),
    }),
    { id: 'RealtimeDelta', description: 'Credits to burn for the new tokens, and who earns them.', examples: [example] },
  );
  const realtimeDeltaRequest = described(
    docs,
    z.strictObject({
      prompt_tokens: job.promptTokens,
      frontier_completion_tokens: frontier,
      accounted_completion_tokens: integerField(
        docs,
        'accounted_completion_tokens',
        'Completion tokens already accounted by earlier deltas (tokens); at most frontier_completion_tokens.',
        REALTIME_DELTA_EXAMPLE.accounted_completion_tokens,
      ),
      prompt_credits_accounted: described(docs, z.boolean(), {
        description: 'Whether an earlier delta already burned the prompt\'s credits.',
        example: REALTIME_DELTA_EXAMPLE.prompt_credits_accounted,
      }),
      total_model_bytes: job.totalModelBytes,
      total_columns: job.totalColumns,
      assignments: job.assignments,
      reserved_completion_tokens: job.reservedCompletionTokens,
      job_id: job.jobId,
      policy_version: job.policyVersion,
    }),
    { description: 'The job\'s counters as the caller has accounted them, and its workers.', examples: [REALTIME_DELTA_EXAMPLE] },
  );
  const realtimeDeltaResponseDescription = 'The credits to burn for the new tokens, and what each worker earns of them.';
  const realtimeDeltaResponse = described(docs, realtimeDelta, { description: realtimeDeltaResponseDescription });
  const refused = REFUSED_REQUESTS['/realtime-delta'];
  return {
    realtimeDelta,
    realtimeDeltaRequest,
    realtimeDeltaResponse,
    /** The 200 entry of the route: the JSON answer, or the CSV of the workers who earn the burn. */
    realtimeDeltaJsonOrCsvResponse: {
      description: realtimeDeltaResponseDescription,
      content: { 'application/json': { schema: realtimeDeltaResponse }, ...workerCreditsCsvMedia(docs, example.contribution.assignments) },
    },
    nothingToAccount: described(docs, z.null(), {
      description: 'Nothing new to account: the frontier has not moved and the prompt is already accounted.',
    }),
    problemResponses: {
      ...problems.bodyResponses({
        400: schemaRefusalOf(realtimeDeltaRequest, refused[400]),
        422: refusalOf(() => computeRealtimeDelta(refused[422], priced), refused[422]),
      }),
      409: problems.reservationExceeded(refusalOf(() => computeRealtimeDelta(refused[409], priced), refused[409])),
    },
  };
}

export type RealtimeDeltaSchemas = ReturnType<typeof realtimeDeltaSchemas>;

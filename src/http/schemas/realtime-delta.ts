import { z } from 'zod';
import { computeRealtimeDelta, TOKEN_COUNT_MAX } from '../../policy/index.js';
import { ConsumptionSchema, policyVersionField } from './consumption.js';
import { ContributionSchema } from './contribution.js';
import { REALTIME_DELTA_EXAMPLE } from './examples.js';
import { integerField } from './fields.js';
import { assignmentsField, promptTokensField, totalColumnsField, totalModelBytesField } from './job.js';

const frontierField = integerField(
  'Completion tokens produced so far (tokens). prompt_tokens + frontier_completion_tokens is at most 4294967295.',
  0,
  TOKEN_COUNT_MAX,
  32,
);

export const RealtimeDeltaRequestSchema = z
  .strictObject({
    prompt_tokens: promptTokensField,
    frontier_completion_tokens: frontierField,
    accounted_completion_tokens: integerField(
      'Completion tokens already accounted by earlier deltas (tokens); at most frontier_completion_tokens.',
      0,
      TOKEN_COUNT_MAX,
      24,
    ),
    prompt_credits_accounted: z.boolean().meta({
      description: 'Whether an earlier delta already burned the prompt\'s credits.',
      example: true,
    }),
    total_model_bytes: totalModelBytesField,
    total_columns: totalColumnsField,
    assignments: assignmentsField,
  })
  .meta({
    description: 'The job\'s counters as the caller has accounted them, and its workers.',
    examples: [REALTIME_DELTA_EXAMPLE],
  });

const deltaExample = computeRealtimeDelta(REALTIME_DELTA_EXAMPLE);

export const RealtimeDeltaSchema = z
  .object({
    policy_version: policyVersionField,
    prompt_tokens_delta: integerField('Prompt tokens accounted by this delta: all of them once, then 0 (tokens).', 0, TOKEN_COUNT_MAX, 0),
    completion_tokens_delta: integerField('frontier_completion_tokens - accounted_completion_tokens (tokens).', 0, TOKEN_COUNT_MAX, 8),
    frontier_completion_tokens: frontierField,
    contribution: ContributionSchema.meta({ description: 'The burned credits, split among the workers: its budget equals consumption.total_credits.' }),
    consumption: ConsumptionSchema.meta({ description: 'The credits to burn from the submitter for the new tokens.' }),
  })
  .meta({ id: 'RealtimeDelta', description: 'Credits to burn for the new tokens, and who earns them.', examples: [deltaExample] });

export const RealtimeDeltaResponseSchema = RealtimeDeltaSchema.meta({
  description: 'The credits to burn for the new tokens, and what each worker earns of them.',
});

export const NothingToAccountSchema = z.null().meta({
  description: 'Nothing new to account: the frontier has not moved and the prompt is already accounted.',
});

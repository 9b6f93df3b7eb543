import { z } from 'zod';
import { quoteConsumption, settleConsumption, TOKEN_COUNT_MAX } from '../../policy/index.js';
import { QUOTE_EXAMPLE, SETTLE_EXAMPLE } from './examples.js';
import { creditField, integerField, ratioField } from './fields.js';
import { promptTokensField, totalModelBytesField } from './job.js';

export const policyVersionField = z.string().meta({
  description: 'Version of the policy parameters that produced this answer.',
  example: 'divy-credit-1',
});

export const QuoteRequestSchema = z
  .strictObject({
    prompt_tokens: promptTokensField,
    requested_completion_tokens: integerField(
      'Completion tokens the submitter asks for, at most (tokens). prompt_tokens + requested_completion_tokens is at most 4294967295.',
      0,
      TOKEN_COUNT_MAX,
      256,
    ),
    total_model_bytes: totalModelBytesField,
  })
  .meta({ description: 'A job to reserve credits for.', examples: [QUOTE_EXAMPLE] });

export const SettleRequestSchema = z
  .strictObject({
    prompt_tokens: promptTokensField,
    actual_completion_tokens: integerField(
      'Completion tokens the job actually produced (tokens). prompt_tokens + actual_completion_tokens is at most 4294967295.',
      0,
      TOKEN_COUNT_MAX,
      180,
    ),
    total_model_bytes: totalModelBytesField,
  })
  .meta({ description: 'A finished job to price.', examples: [SETTLE_EXAMPLE] });

export const ConsumptionSchema = z
  .object({
    policy_version: policyVersionField,
    model_size_factor: ratioField('max(1, total_model_bytes / 32 GiB): the price of one token (credits per token).', 2),
    prompt_credits: creditField('prompt tokens x model_size_factor, rounded half-even', '256.000000000'),
    completion_credits: creditField('completion tokens x model_size_factor, rounded half-even', '512.000000000'),
    total_credits: creditField('prompt_credits + completion_credits, exactly', '768.000000000'),
  })
  .meta({
    id: 'Consumption',
    description: 'The credits a number of tokens costs.',
    examples: [quoteConsumption(QUOTE_EXAMPLE), settleConsumption(SETTLE_EXAMPLE)],
  });

export const QuoteResponseSchema = ConsumptionSchema.meta({ description: 'The credits to reserve.' });

export const SettleResponseSchema = ConsumptionSchema.meta({ description: 'The credits the job consumed.' });

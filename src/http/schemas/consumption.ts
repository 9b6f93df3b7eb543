import { z } from 'zod';
import { quoteConsumption, settleConsumption, REQUEST_TOKENS_MAX } from '../../policy/index.js';
import type { SchemaContext } from './context.js';
import { described } from './docs.js';
import { QUOTE_EXAMPLE, SETTLE_EXAMPLE } from './examples.js';
import { creditField, integerField, ratioField } from './fields.js';
import type { JobSchemas } from './job.js';

export function policyVersionField({ docs, settings }: SchemaContext) {
  return described(docs, z.string(), {
    description: 'Version of the policy parameters that produced this answer.',
    example: settings.parameters.version,
  });
}

export function consumptionSchemas(context: SchemaContext, job: JobSchemas) {
  const { docs, settings } = context;
  const quote = quoteConsumption(QUOTE_EXAMPLE, settings);
  const settle = settleConsumption(SETTLE_EXAMPLE, settings);
  const scale = settings.credit_scale;
  const consumption = described(
    docs,
    z.object({
      policy_version: policyVersionField(context),
      model_size_factor: ratioField(
        docs,
        `max(1, total_model_bytes / ${settings.parameters.model_size_scale_gib} GiB): the price of one token (credits per token).`,
        quote.model_size_factor,
      ),
      prompt_credits: creditField(docs, scale, 'prompt tokens x model_size_factor, rounded half-even', quote.prompt_credits),
      completion_credits: creditField(docs, scale, 'completion tokens x model_size_factor, rounded half-even', quote.completion_credits),
      total_credits: creditField(docs, scale, 'prompt_credits + completion_credits, exactly', quote.total_credits),
    }),
    { id: 'Consumption', description: 'The credits a number of tokens costs.', examples: [quote, settle] },
  );
  const completionTokens = (field: 'requested_completion_tokens' | 'actual_completion_tokens', description: string, example: number) =>
    integerField(docs, field, `${description} (tokens). prompt_tokens + ${field} is at most ${REQUEST_TOKENS_MAX}.`, example);
  return {
    consumption,
    quoteRequest: described(
      docs,
      z.strictObject({
        prompt_tokens: job.promptTokens,
        requested_completion_tokens: completionTokens('requested_completion_tokens', 'Completion tokens the submitter asks for, at most', QUOTE_EXAMPLE.requested_completion_tokens),
        total_model_bytes: job.totalModelBytes,
      }),
      { description: 'A job to reserve credits for.', examples: [QUOTE_EXAMPLE] },
    ),
    quoteResponse: described(docs, consumption, { description: 'The credits to reserve.' }),
    settleRequest: described(
      docs,
      z.strictObject({
        prompt_tokens: job.promptTokens,
        actual_completion_tokens: completionTokens('actual_completion_tokens', 'Completion tokens the job actually produced', SETTLE_EXAMPLE.actual_completion_tokens),
        total_model_bytes: job.totalModelBytes,
      }),
      { description: 'A finished job to price.', examples: [SETTLE_EXAMPLE] },
    ),
    settleResponse: described(docs, consumption, { description: 'The credits the job consumed.' }),
  };
}

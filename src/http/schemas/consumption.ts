import { z } from 'zod';
import { CREDIT_AMOUNT_WHOLE_DIGITS_MAX, quoteConsumption, REQUEST_TOKENS_MAX, type Consumption } from '../../policy/index.js';
import type { SchemaContext } from './context.js';
import { described } from './docs.js';
import { QUOTE_EXAMPLE } from './examples.js';
import { creditAmountInputPattern, creditField, integerField, ratioField } from './fields.js';
import type { JobSchemas } from './job.js';
import { REFUSED_REQUESTS, refusalOf, schemaRefusalOf } from './problem-examples.js';
import type { ProblemSchemas } from './problem.js';

export function policyVersionField({ docs, settings }: SchemaContext) {
  return described(docs, z.string(), {
    description: 'Version of the policy parameters that produced this answer.',
    example: settings.parameters.version,
  });
}

/** A completion count of a request whose sum with the prompt one request may price. */
export function completionTokensField(
  { docs }: SchemaContext,
  field: 'requested_completion_tokens' | 'actual_completion_tokens',
  description: string,
  example: number,
) {
  return integerField(docs, field, `${description} (tokens). prompt_tokens + ${field} is at most ${REQUEST_TOKENS_MAX}.`, example);
}

/** The fields of every consumption, with `example`'s values as their examples. */
export function consumptionFieldsOf(context: SchemaContext, example: Consumption) {
  const { docs, settings } = context;
  const scale = settings.credit_scale;
  return {
    policy_version: policyVersionField(context),
    model_size_factor: ratioField(
      docs,
      `max(1, total_model_bytes / ${settings.parameters.model_size_scale_gib} GiB): the price of one token (credits per token).`,
      example.model_size_factor,
    ),
    prompt_credits: creditField(docs, scale, 'prompt tokens x model_size_factor, rounded half-even', example.prompt_credits),
    completion_credits: creditField(docs, scale, 'completion tokens x model_size_factor, rounded half-even', example.completion_credits),
    total_credits: creditField(docs, scale, 'prompt_credits + completion_credits, exactly', example.total_credits),
  };
}

export function consumptionSchemas(context: SchemaContext, job: JobSchemas, problems: ProblemSchemas) {
  const { docs, settings } = context;
  const quote = quoteConsumption(QUOTE_EXAMPLE, settings);
  const scale = settings.credit_scale;
  const { max_affordable_completion_tokens, ...quoteConsumed } = quote;
  const consumptionFields = consumptionFieldsOf(context, quoteConsumed);
  const quoteSchema = described(
    docs,
    z.object({
      ...consumptionFields,
      max_affordable_completion_tokens: integerField(
        docs,
        'requested_completion_tokens',
        'With budget_credits: the largest completion count whose quote, with the prompt, fits the budget; 0 when the prompt alone does not fit (tokens).',
        max_affordable_completion_tokens ?? 0,
      ).optional(),
    }),
    { id: 'Quote', description: 'The credits a job costs, and what a budget affords.', examples: [quote] },
  );
  const consumption = described(docs, z.object(consumptionFields), {
    id: 'Consumption',
    description: 'The credits a number of tokens costs.',
    examples: [quoteConsumed],
  });
  const quoteRequest = described(
    docs,
    z.strictObject({
      prompt_tokens: job.promptTokens,
      requested_completion_tokens: completionTokensField(
        context,
        'requested_completion_tokens',
        'Completion tokens the submitter asks for, at most',
        QUOTE_EXAMPLE.requested_completion_tokens,
      ),
      total_model_bytes: job.totalModelBytes,
      budget_credits: described(docs, z.string().optional(), {
        description: `What the submitter can spend (credits, a decimal string of up to ${CREDIT_AMOUNT_WHOLE_DIGITS_MAX} digits and at most ${scale} fraction digits). With it the answer also says max_affordable_completion_tokens.`,
        pattern: creditAmountInputPattern(scale),
        example: QUOTE_EXAMPLE.budget_credits,
      }),
      policy_version: job.policyVersion,
    }),
    { description: 'A job to reserve credits for.', examples: [QUOTE_EXAMPLE] },
  );
  const refused = REFUSED_REQUESTS['/quote'];
  return {
    consumption,
    quoteRequest,
    // The route's own words for its 200 answer: a bare component would read "Default Response".
    quoteResponse: described(docs, quoteSchema, { description: 'The credits to reserve, and what a budget affords.' }),
    quoteProblemResponses: problems.bodyResponses({
      400: schemaRefusalOf(quoteRequest, refused[400]),
      422: refusalOf(() => quoteConsumption(refused[422], settings), refused[422]),
    }),
  };
}

export type ConsumptionSchemas = ReturnType<typeof consumptionSchemas>;

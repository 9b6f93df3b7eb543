import { z } from 'zod';
import { computeContribution, TOKEN_COUNT_MAX } from '../../policy/index.js';
import { policyVersionField } from './consumption.js';
import { CONTRIBUTION_EXAMPLE } from './examples.js';
import { creditField, integerField, ratioField } from './fields.js';
import { assignmentsField, promptTokensField, totalColumnsField, totalModelBytesField } from './job.js';

export const ContributionRequestSchema = z
  .strictObject({
    prompt_tokens: promptTokensField,
    completion_tokens: integerField(
      'Completion tokens of the job (tokens). prompt_tokens + completion_tokens is from 1 to 4294967295.',
      0,
      TOKEN_COUNT_MAX,
      180,
    ),
    total_model_bytes: totalModelBytesField,
    total_columns: totalColumnsField,
    assignments: assignmentsField,
  })
  .meta({ description: 'A whole job whose credits are to be split among its workers.', examples: [CONTRIBUTION_EXAMPLE] });

export const WorkerCreditSchema = z
  .object({
    worker_id: z.string().meta({ description: 'The worker, as in the request.', example: 'fast-metal' }),
    credits: creditField('What the worker earns: job_credit_budget x normalized_contribution_share, largest remainder', '13.714285714'),
    compute_share: ratioField('The worker\'s compute units over all workers\' (ratio, 0 to 1).', 0.6666666666666666),
    throughput_multiplier: ratioField(
      'measured_service_rate / reference_service_rate, clamped to [0.5, 1.5] (ratio).',
      1.5,
    ),
    resource_pressure_multiplier: ratioField('0.85 + 0.30 x memory_pressure (ratio).', 1.15),
    normalized_contribution_share: ratioField(
      'compute_share x throughput_multiplier x resource_pressure_multiplier, normalized over all workers (ratio, 0 to 1).',
      0.8571428571428571,
    ),
    measured_service_rate: ratioField(
      'Compute units per second: capacity x shard fraction / max(execution time, 1 ms) (compute units per second).',
      13.333333333333334,
    ),
    reference_service_rate: ratioField('Median measured_service_rate of the job\'s workers (compute units per second).', 7.777777777777779),
    memory_pressure: ratioField(
      'total_model_bytes x shard fraction / available_memory_bytes, clamped to [0, 1] (ratio).',
      1,
    ),
  })
  .meta({ id: 'WorkerCredit', description: 'What one worker earns, with every factor that decided it.' });

export const ContributionSchema = z
  .object({
    policy_version: policyVersionField,
    job_credit_budget: creditField('The credits split among the workers; their credits sum to it exactly', '16.000000000'),
    assignments: z.array(WorkerCreditSchema).meta({ description: 'One entry per assignment, in request order.' }),
  })
  .meta({
    id: 'Contribution',
    description: 'A budget split among the workers of a job.',
    examples: [computeContribution(CONTRIBUTION_EXAMPLE)],
  });

export const ContributionResponseSchema = ContributionSchema.meta({ description: 'The job\'s credits, split among its workers.' });

/** Schemas of the operational endpoints: policy introspection and health. */
import { z } from 'zod';
import { policyVersionField } from './consumption.js';

export const PolicyDocumentSchema = z
  .object({
    policy_version: policyVersionField,
    credit_scale: z.number().meta({ type: 'integer', description: 'Fraction digits of every credit amount.', example: 9 }),
    max_assignments: z.number().meta({ type: 'integer', description: 'Most assignments one request may carry.', example: 10000 }),
    parameters: z.object({
      model_size_scale_gib: z.number().meta({ description: 'Model size at which the price per token starts to grow (GiB).', example: 32 }),
      min_execution_time_secs: z.number().meta({ description: 'Floor of a worker\'s execution time (seconds).', example: 0.001 }),
      throughput_multiplier_min: z.number().meta({ description: 'Lower clamp of the throughput multiplier (ratio).', example: 0.5 }),
      throughput_multiplier_max: z.number().meta({ description: 'Upper clamp of the throughput multiplier (ratio).', example: 1.5 }),
      resource_multiplier_base: z.number().meta({ description: 'Resource pressure multiplier at no memory pressure (ratio).', example: 0.85 }),
      resource_multiplier_span: z.number().meta({ description: 'What full memory pressure adds to it (ratio).', example: 0.3 }),
    }).meta({ description: 'The constants of the credit model; a change of any of them is a new policy_version.' }),
  })
  .meta({ id: 'PolicyDocument', description: 'The active credit policy.' });

export const HealthSchema = z
  .object({ status: z.enum(['ok', 'ready']).meta({ description: 'ok: the process is alive; ready: it takes traffic.' }) })
  .meta({ id: 'Health' });

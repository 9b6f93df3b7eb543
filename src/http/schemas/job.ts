/** The fields that describe a job to price: tokens, model size and the workers' assignments. */
import { z } from 'zod';
import {
  BYTE_COUNT_MAX,
  TOKEN_COUNT_MAX,
  WORKER_ID_LENGTH_MAX,
} from '../../policy/index.js';
import { integerField } from './fields.js';

export const promptTokensField = integerField('Tokens in the prompt (tokens).', 0, TOKEN_COUNT_MAX, 128);

export const totalModelBytesField = integerField(
  'Size of the whole model (bytes). Models above 32 GiB cost proportionally more per token.',
  0,
  BYTE_COUNT_MAX,
  68_719_476_736,
);

export const totalColumnsField = integerField(
  'Columns the model is split into across workers (columns).',
  1,
  TOKEN_COUNT_MAX,
  8192,
);

export const WorkerAssignmentSchema = z
  .strictObject({
    worker_id: z.string().meta({
      description: `Identifier of the worker, 1 to ${WORKER_ID_LENGTH_MAX} characters.`,
      example: 'fast-metal',
    }),
    execution_time_ms: integerField(
      'Wall time the worker spent on its shard (milliseconds); below 1 ms counts as 1 ms.',
      0,
      BYTE_COUNT_MAX,
      300,
    ),
    assigned_capacity_units: integerField('Capacity the coordinator assigned to the worker (capacity units).', 1, BYTE_COUNT_MAX, 8),
    shard_column_start: integerField('First column of the worker\'s shard (column index, inclusive).', 0, TOKEN_COUNT_MAX, 0),
    shard_column_end: integerField(
      'End of the worker\'s shard (column index, exclusive): greater than shard_column_start, at most total_columns.',
      1,
      TOKEN_COUNT_MAX,
      4096,
    ),
    available_memory_bytes: integerField('Memory the worker has for its shard (bytes).', 1, BYTE_COUNT_MAX, 25_769_803_776),
  })
  .meta({
    id: 'WorkerAssignment',
    description: 'One worker\'s part of the job. Shards may overlap: replicated work is allowed.',
  });

export const assignmentsField = z.array(WorkerAssignmentSchema).meta({
  description: 'The workers of the job, at most MAX_ASSIGNMENTS (10000 by default). Answers list them in this order.',
});

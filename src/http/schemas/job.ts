/** The fields that describe a job to price: tokens, model size and the workers' assignments. */
import { z } from 'zod';
import { JOB_ID_LENGTH, WORKER_ID_LENGTH } from '../../policy/index.js';
import type { SchemaContext } from './context.js';
import { described } from './docs.js';
import { integerField } from './fields.js';

export function jobSchemas({ docs, settings, versions }: SchemaContext) {
  const { parameters } = settings;
  // Twelve significant digits drop the binary noise of the conversion (0.00003 s is 0.03 ms, not 0.030000000000000002).
  const minExecutionTimeMs = Number((parameters.min_execution_time_secs * 1000).toPrecision(12));
  const workerAssignment = described(
    docs,
    z.strictObject({
      worker_id: described(docs, z.string(), {
        description: `Identifier of the worker, ${WORKER_ID_LENGTH.min} to ${WORKER_ID_LENGTH.max} characters.`,
        example: 'fast-metal',
      }),
      execution_time_ms: integerField(
        docs,
        'execution_time_ms',
        `Wall time the worker spent on its shard (milliseconds); below ${minExecutionTimeMs} ms counts as ${minExecutionTimeMs} ms.`,
        300,
      ),
      assigned_capacity_units: integerField(docs, 'assigned_capacity_units', 'Capacity the coordinator assigned to the worker (capacity units).', 8),
      shard_column_start: integerField(docs, 'shard_column_start', 'First column of the worker\'s shard (column index, inclusive).', 0),
      shard_column_end: integerField(
        docs,
        'shard_column_end',
        'End of the worker\'s shard (column index, exclusive): greater than shard_column_start, at most total_columns.',
        4096,
      ),
      available_memory_bytes: integerField(docs, 'available_memory_bytes', 'Memory the worker has for its shard (bytes).', 25_769_803_776),
    }),
    { id: 'WorkerAssignment', description: 'One worker\'s part of the job. Shards may overlap: replicated work is allowed.' },
  );
  return {
    promptTokens: integerField(docs, 'prompt_tokens', 'Tokens in the prompt (tokens).', 128),
    totalModelBytes: integerField(
      docs,
      'total_model_bytes',
      `Size of the whole model (bytes). Models above ${parameters.model_size_scale_gib} GiB cost proportionally more per token.`,
      68_719_476_736,
    ),
    totalColumns: integerField(docs, 'total_columns', 'Columns the model is split into across workers (columns).', 8192),
    workerAssignment,
    // maxItems documents the policy's rule; a longer list is refused as a 422 before this schema
    // reads it (src/http/list-limits.ts), so the schema does not check the length itself.
    assignments: described(docs, z.array(workerAssignment), {
      description: `The workers of the job, at most ${settings.max_assignments}. Answers list them in this order.`,
      maxItems: settings.max_assignments,
    }),
    policyVersion: described(docs, z.string().optional(), {
      description: `The policy to price the job by: ${versions.join(', ')}. Absent means the current one, ${settings.parameters.version}. Name the quote's version in every later request, so a policy rolled out while the job runs does not change its prices.`,
      example: settings.parameters.version,
    }),
    jobId: described(docs, z.string().optional(), {
      description: `Names the job, ${JOB_ID_LENGTH.min} to ${JOB_ID_LENGTH.max} characters. With it the answer carries delta_id and the ledger postings.`,
      example: 'job-42',
    }),
    reservedCompletionTokens: integerField(
      docs,
      'reserved_completion_tokens',
      'The completion tokens the job\'s reservation was quoted for (tokens). With it no burn goes past the reservation (409), and the answer reports it.',
      256,
    ).optional(),
  };
}

export type JobSchemas = ReturnType<typeof jobSchemas>;

import { z } from 'zod';
import { computeContribution, computeRealtimeDelta, REQUEST_TOKENS_MAX } from '../../policy/index.js';
import { policyVersionField } from './consumption.js';
import type { SchemaContext } from './context.js';
import { described } from './docs.js';
import { CONTRIBUTION_EXAMPLE, exampleSettings, REALTIME_DELTA_EXAMPLE } from './examples.js';
import { creditField, integerField, ratioField } from './fields.js';
import type { JobSchemas } from './job.js';
import { REFUSED_REQUESTS, refusalOf, schemaRefusalOf } from './problem-examples.js';
import type { ProblemSchemas } from './problem.js';
import { workerCreditsCsvMedia } from './worker-credits-csv.js';

export function contributionSchemas(context: SchemaContext, job: JobSchemas, problems: ProblemSchemas) {
  const { docs, settings } = context;
  const { parameters, credit_scale } = settings;
  const priced = exampleSettings(settings);
  const example = computeContribution(CONTRIBUTION_EXAMPLE, priced);
  // Field examples are the fast worker of the README's realtime delta.
  const deltaExample = computeRealtimeDelta(REALTIME_DELTA_EXAMPLE, priced)!;
  const worker = deltaExample.contribution.assignments[0]!;
  const workerCredit = described(
    docs,
    z.object({
      worker_id: described(docs, z.string(), { description: 'The worker, as in the request.', example: worker.worker_id }),
      credits: creditField(
        docs,
        credit_scale,
        'What the worker earns: job_credit_budget x normalized_contribution_share, by largest remainder',
        worker.credits,
      ),
      compute_share: ratioField(docs, 'The worker\'s compute units over all workers\' (ratio, 0 to 1).', worker.compute_share),
      throughput_multiplier: ratioField(
        docs,
        `measured_service_rate / reference_service_rate, clamped to [${parameters.throughput_multiplier_min}, ${parameters.throughput_multiplier_max}] (ratio).`,
        worker.throughput_multiplier,
      ),
      resource_pressure_multiplier: ratioField(
        docs,
        `${parameters.resource_multiplier_base} + ${parameters.resource_multiplier_span} x memory_pressure (ratio).`,
        worker.resource_pressure_multiplier,
      ),
      normalized_contribution_share: ratioField(
        docs,
        'compute_share x throughput_multiplier x resource_pressure_multiplier, normalized over all workers (ratio, 0 to 1).',
        worker.normalized_contribution_share,
      ),
      measured_service_rate: ratioField(
        docs,
        `Compute units per second: capacity x shard fraction / max(execution time, ${parameters.min_execution_time_secs} s).`,
        worker.measured_service_rate,
      ),
      reference_service_rate: ratioField(
        docs,
        `Median measured_service_rate of the job's workers, at least ${parameters.reference_service_rate_min} (compute units per second).`,
        worker.reference_service_rate,
      ),
      memory_pressure: ratioField(
        docs,
        'total_model_bytes x shard fraction / available_memory_bytes, clamped to [0, 1] (ratio).',
        worker.memory_pressure,
      ),
    }),
    { id: 'WorkerCredit', description: 'What one worker earns, with every factor that decided it.' },
  );
  const contribution = described(
    docs,
    z.object({
      policy_version: policyVersionField(context),
      job_credit_budget: creditField(
        docs,
        credit_scale,
        'The credits split among the workers; their credits sum to it exactly',
        deltaExample.contribution.job_credit_budget,
      ),
      assignments: described(docs, z.array(workerCredit), { description: 'One entry per assignment, in request order.' }),
    }),
    { id: 'Contribution', description: 'A budget split among the workers of a job.', examples: [example] },
  );
  const contributionRequest = described(
    docs,
    z.strictObject({
      prompt_tokens: job.promptTokens,
      completion_tokens: integerField(
        docs,
        'completion_tokens',
        `Completion tokens of the job (tokens). prompt_tokens + completion_tokens is from 1 to ${REQUEST_TOKENS_MAX}.`,
        CONTRIBUTION_EXAMPLE.completion_tokens,
      ),
      total_model_bytes: job.totalModelBytes,
      total_columns: job.totalColumns,
      assignments: job.assignments,
      policy_version: job.policyVersion,
    }),
    { description: 'A whole job whose credits are to be split among its workers.', examples: [CONTRIBUTION_EXAMPLE] },
  );
  const contributionResponseDescription = 'The job\'s credits, split among its workers.';
  const contributionResponse = described(docs, contribution, { description: contributionResponseDescription });
  const refused = REFUSED_REQUESTS['/contribution'];
  return {
    contribution,
    contributionRequest,
    contributionResponse,
    /** The 200 entry of the route: the JSON answer, or the CSV of its workers. */
    contributionJsonOrCsvResponse: {
      description: contributionResponseDescription,
      content: { 'application/json': { schema: contributionResponse }, ...workerCreditsCsvMedia(docs, example.assignments) },
    },
    problemResponses: problems.bodyResponses({
      400: schemaRefusalOf(contributionRequest, refused[400]),
      422: refusalOf(() => computeContribution(refused[422], priced), refused[422]),
    }),
  };
}

export type ContributionSchemas = ReturnType<typeof contributionSchemas>;

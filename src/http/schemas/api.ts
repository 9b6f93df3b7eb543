/** Every schema of the API, built for one app: its registry, and descriptions that state its active policy. */
import type { PolicySettings } from '../../policy/index.js';
import { consumptionSchemas } from './consumption.js';
import { contributionSchemas } from './contribution.js';
import { createSchemaDocs } from './docs.js';
import { jobSchemas } from './job.js';
import { problemSchemas } from './problem.js';
import { realtimeDeltaSchemas } from './realtime-delta.js';
import { serviceSchemas } from './service.js';

export function apiSchemas(settings: PolicySettings) {
  const context = { docs: createSchemaDocs(), settings };
  const job = jobSchemas(context);
  const consumption = consumptionSchemas(context, job);
  const contribution = contributionSchemas(context, job);
  return {
    docs: context.docs,
    problems: problemSchemas(context.docs),
    consumption,
    contribution,
    realtimeDelta: realtimeDeltaSchemas(context, job, consumption.consumption, contribution),
    service: serviceSchemas(context),
  };
}

export type ApiSchemas = ReturnType<typeof apiSchemas>;

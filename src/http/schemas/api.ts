/** Every schema of the API, built for one app: its registry, and descriptions that state its active policy. */
import { catalogOfOne, computeRealtimeDelta, DEFAULT_POLICY_SETTINGS, settingsFor, settleConsumption, type PolicyCatalog } from '../../policy/index.js';
import { BATCH_MAX_UPDATES_DEFAULT } from '../limits.js';
import { consumptionSchemas } from './consumption.js';
import { contributionSchemas } from './contribution.js';
import { createSchemaDocs } from './docs.js';
import { exampleSettings, REALTIME_DELTA_EXAMPLE, SETTLE_EXAMPLE } from './examples.js';
import { jobSchemas } from './job.js';
import { jwksSchemas } from './jwks.js';
import { ledgerSchemas } from './ledger.js';
import { problemSchemas } from './problem.js';
import { realtimeDeltaBatchSchemas } from './realtime-delta-batch.js';
import { realtimeDeltaSchemas } from './realtime-delta.js';
import { serviceSchemas } from './service.js';
import { settlementSchemas } from './settlement.js';

/** Descriptions and examples state the current policy and the batch limit; the version fields list every policy served. */
export function apiSchemas(catalog: PolicyCatalog = catalogOfOne(DEFAULT_POLICY_SETTINGS), batch_max_updates = BATCH_MAX_UPDATES_DEFAULT) {
  const settings = settingsFor(catalog, undefined);
  const context = { docs: createSchemaDocs(), settings, versions: [...catalog.policies.keys()] };
  const job = jobSchemas(context);
  const problems = problemSchemas(context.docs);
  const consumption = consumptionSchemas(context, job, problems);
  const contribution = contributionSchemas(context, job, problems);
  const priced = exampleSettings(settings);
  const realtimeDeltaExample = computeRealtimeDelta(REALTIME_DELTA_EXAMPLE, priced)!;
  const ledger = ledgerSchemas(context, {
    reservation: realtimeDeltaExample.reservation!,
    reconciliation: settleConsumption(SETTLE_EXAMPLE, priced).reconciliation!,
    delta_id: realtimeDeltaExample.delta_id!,
    posting: realtimeDeltaExample.postings![0]!,
  });
  const realtimeDelta = realtimeDeltaSchemas(context, job, consumption.consumption, contribution, ledger, problems);
  return {
    docs: context.docs,
    problems,
    consumption,
    settlement: settlementSchemas(context, job, contribution, ledger, problems),
    contribution,
    realtimeDelta,
    realtimeDeltaBatch: realtimeDeltaBatchSchemas(context, realtimeDelta, problems, batch_max_updates),
    service: serviceSchemas(context, catalog, problems),
    jwks: jwksSchemas(context.docs),
  };
}

export type ApiSchemas = ReturnType<typeof apiSchemas>;

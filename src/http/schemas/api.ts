/** Every schema of the API, built for one app: its registry, and descriptions that state its active policy. */
import { catalogOfOne, computeRealtimeDelta, DEFAULT_POLICY_SETTINGS, settingsFor, settleConsumption, type PolicyCatalog } from '../../policy/index.js';
import { consumptionSchemas } from './consumption.js';
import { contributionSchemas } from './contribution.js';
import { createSchemaDocs } from './docs.js';
import { exampleSettings, REALTIME_DELTA_EXAMPLE, SETTLE_EXAMPLE } from './examples.js';
import { jobSchemas } from './job.js';
import { ledgerSchemas } from './ledger.js';
import { problemSchemas } from './problem.js';
import { realtimeDeltaSchemas } from './realtime-delta.js';
import { serviceSchemas } from './service.js';
import { settlementSchemas } from './settlement.js';

/** Descriptions and examples state the current policy; the version fields list every policy served. */
export function apiSchemas(catalog: PolicyCatalog = catalogOfOne(DEFAULT_POLICY_SETTINGS)) {
  const settings = settingsFor(catalog, undefined);
  const context = { docs: createSchemaDocs(), settings, versions: [...catalog.policies.keys()] };
  const job = jobSchemas(context);
  const consumption = consumptionSchemas(context, job);
  const contribution = contributionSchemas(context, job);
  const priced = exampleSettings(settings);
  const realtimeDeltaExample = computeRealtimeDelta(REALTIME_DELTA_EXAMPLE, priced)!;
  const ledger = ledgerSchemas(context, {
    reservation: realtimeDeltaExample.reservation!,
    reconciliation: settleConsumption(SETTLE_EXAMPLE, priced).reconciliation!,
    delta_id: realtimeDeltaExample.delta_id!,
    posting: realtimeDeltaExample.postings![0]!,
  });
  return {
    docs: context.docs,
    problems: problemSchemas(context.docs),
    consumption,
    settlement: settlementSchemas(context, job, consumption, contribution, ledger),
    contribution,
    realtimeDelta: realtimeDeltaSchemas(context, job, consumption.consumption, contribution, ledger),
    service: serviceSchemas(context, catalog),
  };
}

export type ApiSchemas = ReturnType<typeof apiSchemas>;

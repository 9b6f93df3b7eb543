/** The in-process stages of a request (app.inject): each benchmark's figures as Markdown tables. `npm run bench` runs it after the HTTP suite. */
import { cpus } from 'node:os';
import { buildApp } from '../src/app.js';
import { apiSchemas } from '../src/http/schemas/api.js';
import { catalogOfOne, DEFAULT_POLICY_SETTINGS } from '../src/policy/index.js';
import { benchBatch } from './batch.js';
import { linkConsoleAssets } from './console-assets.js';
import { deltaInput, JOBS_IN_TURN } from './jobs.js';
import { watchCpu } from './machine.js';
import { PARTS, profileRequests } from './profile.js';
import { benchQuote } from './quote.js';
import { benchRealtimeDelta, ORIGINAL_MODEL_US } from './realtime-delta.js';

const started = Date.now();
linkConsoleAssets();
const watch = watchCpu();
const settings = DEFAULT_POLICY_SETTINGS;
// The app under its default settings, as `npm start` serves it, and its own request schemas.
const app = await buildApp({ settings });
await app.ready();
const catalog = catalogOfOne(settings);
const schemas = apiSchemas(catalog);

const deltas = await benchRealtimeDelta(app, schemas, settings);
const quote = await benchQuote(app, schemas, settings);
const batch = await benchBatch(app, settings);
const PROFILED_WORKERS = 10_000;
const profiledBodies = Array.from({ length: JOBS_IN_TURN }, (_, turn) => JSON.stringify(deltaInput(PROFILED_WORKERS, turn)));
process.stderr.write(`profiling POST /realtime-delta, ${PROFILED_WORKERS} workers\n`);
const profile = await profileRequests(app, '/realtime-delta', profiledBodies, 5);
await app.close();
const othersCpu = watch.othersShare();

console.log(`## POST /realtime-delta, one request at a time (${JOBS_IN_TURN} distinct jobs per size, in turn)\n`);
console.log('| workers | whole request | JSON parse | validation | policy | serialization | other | policy share of the whole |');
console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const figure of deltas) {
  console.log(
    `| ${figure.workers} | ${time(figure.whole_us)} | ${time(figure.parse_us)} | ${time(figure.validation_us)} | ${time(figure.policy_us)} | ${time(figure.serialization_us)} | ${time(figure.other_us)} | ${percent(figure.policy_us / figure.whole_us)} |`,
  );
}

console.log('\n### Shares of the whole request\n');
console.log('| workers | JSON parse | validation | policy | serialization | other |');
console.log('| ---: | ---: | ---: | ---: | ---: | ---: |');
for (const figure of deltas) {
  const share = (micros: number) => percent(micros / figure.whole_us);
  console.log(
    `| ${figure.workers} | ${share(figure.parse_us)} | ${share(figure.validation_us)} | ${share(figure.policy_us)} | ${share(figure.serialization_us)} | ${share(figure.other_us)} |`,
  );
}

console.log('\n### Per worker\n');
console.log('| workers | whole request | JSON parse | validation | policy | serialization | other |');
console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const figure of deltas) {
  const perWorker = (micros: number) => time(micros / figure.workers);
  console.log(
    `| ${figure.workers} | ${perWorker(figure.whole_us)} | ${perWorker(figure.parse_us)} | ${perWorker(figure.validation_us)} | ${perWorker(figure.policy_us)} | ${perWorker(figure.serialization_us)} | ${perWorker(figure.other_us)} |`,
  );
}

console.log('\n### Policy call against the original model, and the check on the stages\n');
console.log('| workers | request body | response body | policy | original model | policy / original | four stages chained | sum of the four stages | whole request - chained | others\' CPU |');
console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const figure of deltas) {
  const original = ORIGINAL_MODEL_US[figure.workers]!;
  const stages = figure.parse_us + figure.validation_us + figure.policy_us + figure.serialization_us;
  console.log(
    `| ${figure.workers} | ${bytes(figure.request_bytes)} | ${bytes(figure.response_bytes)} | ${time(figure.policy_us)} | ${time(original)} | ${(figure.policy_us / original).toFixed(2)}x | ${time(figure.chained_us)} | ${time(stages)} | ${time(figure.whole_us - figure.chained_us)} | ${cores(figure.others_cpu)} |`,
  );
}

console.log(`\n## POST /quote, for reference (${JOBS_IN_TURN} distinct quotes, in turn)\n`);
console.log('| whole request | JSON parse | validation | policy | serialization | other | policy share of the whole | others\' CPU |');
console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
console.log(
  `| ${time(quote.whole_us)} | ${time(quote.parse_us)} | ${time(quote.validation_us)} | ${time(quote.policy_us)} | ${time(quote.serialization_us)} | ${time(quote.other_us)} | ${percent(quote.policy_us / quote.whole_us)} | ${cores(quote.others_cpu)} |`,
);

console.log(`\n## POST /realtime-delta/batch: ${batch.updates_per_batch} updates of ${batch.workers} workers per request, against single calls\n`);
console.log('| single call | batch | per update in the batch | per update, batch / single | batch body | others\' CPU |');
console.log('| ---: | ---: | ---: | ---: | ---: | ---: |');
console.log(
  `| ${time(batch.single_us)} | ${time(batch.batch_us)} | ${time(batch.per_update_us)} | ${(batch.per_update_us / batch.single_us).toFixed(2)}x | ${bytes(batch.batch_request_bytes)} | ${cores(batch.others_cpu)} |`,
);

console.log(`\n## Where a ${PROFILED_WORKERS}-worker request's CPU time goes: V8's sampling profiler\n`);
console.log('| part | share of the samples | per request, profiled |');
console.log('| :--- | ---: | ---: |');
for (const part of PARTS) {
  const share = profile.shares.get(part)!;
  console.log(`| ${part} | ${percent(share)} | ${time(share * profile.per_request_us)} |`);
}
console.log(
  `\n${profile.requests} requests profiled, ${time(profile.per_request_us)} per request under the profiler; other processes took ${cores(profile.others_cpu)} meanwhile.`,
);

console.log(
  `\nnode ${process.version}, ${cpus().length} CPUs, ${new Date().toISOString()}, ${((Date.now() - started) / 1000).toFixed(0)} s; other processes took ${cores(othersCpu)} of CPU meanwhile.`,
);

function time(micros: number): string {
  if (Math.abs(micros) >= 1000) return `${(micros / 1000).toFixed(2)} ms`;
  if (Math.abs(micros) >= 1) return `${micros.toFixed(2)} us`;
  return `${(micros * 1000).toFixed(0)} ns`;
}

function percent(ratio: number): string {
  return `${(ratio * 100).toFixed(1)}%`;
}

/** CPU taken by other processes, in cores (this machine has two). */
function cores(share: number | null): string {
  return share === null ? 'n/a' : `${share.toFixed(2)} cores`;
}

function bytes(count: number): string {
  if (count >= 1e6) return `${(count / 1e6).toFixed(2)} MB`;
  if (count >= 1e3) return `${(count / 1e3).toFixed(1)} kB`;
  return `${count.toFixed(0)} B`;
}

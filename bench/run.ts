/**
 * `npm run bench`: the HTTP suite against the real server, then the in-process stages
 * (stages.ts). `--http-only` stops after the HTTP suite; `--floor-only` after the comparison with
 * the fair floor, to weigh a change to the request path (BENCH_DIVY_SCRIPT runs another build).
 * Prints Markdown; writes the plot of cost per worker to bench/cost-per-worker.svg.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { deltaRing, quoteRing } from './http/bodies.js';
import { benchBatches, benchHttpBatch } from './http/batch.js';
import { benchCostPerWorker } from './http/cost-per-worker.js';
import { compareWithFloor, recordTemplates, startFloor, type FloorComparison } from './http/fair-floor.js';
import { benchFairness, HEAVY_WORKERS, QUOTES_PER_SEC } from './http/fairness.js';
import { machineLine, mib, ms, rate, shortMachineLine, us } from './http/format.js';
import { lineChartSvg } from './http/plot.js';
import { pinLoadGenerator, startDivy } from './http/servers.js';

const ROUNDS = 3;
/** BENCH_ROUND_SECS shortens the rounds while the bench itself is being worked on. */
const ROUND_SECS = Number(process.env['BENCH_ROUND_SECS'] ?? 3);
const CONNECTIONS = 10;
const PLOT_FILE = fileURLToPath(new URL('../../../bench/cost-per-worker.svg', import.meta.url));

const started = Date.now();
const pinned = pinLoadGenerator();
// The suite measures what requests cost, so the server must not refuse any: shedding on event-loop
// delay is off here (a 10000-worker request holds the loop for tens of milliseconds, and a busy
// neighbour on this shared machine delays it too). npm run soak and bench:overload run the defaults.
const divy = await startDivy({ SHED_MAX_EVENT_LOOP_DELAY_MS: '0' });
const rssStart = divy.rssBytes();
const quotes = quoteRing(64);
const deltas8 = deltaRing(8, 64);
const templates = await recordTemplates(divy, quotes, deltas8, benchBatches());
let floor = await startFloor(templates);
let comparisons: FloorComparison[];
try {
  const run = { rounds: ROUNDS, round_secs: ROUND_SECS, connections: CONNECTIONS };
  comparisons = [await compareWithFloor(divy, floor, quotes, 'POST /quote', run), await compareWithFloor(divy, floor, deltas8, 'POST /realtime-delta, 8 workers', run)];
} finally {
  await floor.stop();
}
if (process.argv.includes('--floor-only')) {
  await divy.stop();
  printFloorComparisons(comparisons);
  console.log(`\n${machineLine(pinned)}; ${((Date.now() - started) / 1000).toFixed(0)} s`);
  process.exit(0);
}
const fairness = await benchFairness(divy, quotes, deltaRing(HEAVY_WORKERS, 4), ROUNDS, ROUND_SECS);
floor = await startFloor(templates);
let batch: Awaited<ReturnType<typeof benchHttpBatch>>;
try {
  batch = await benchHttpBatch(divy, floor, ROUNDS, ROUND_SECS);
} finally {
  await floor.stop();
}
const costs = await benchCostPerWorker(divy, ROUNDS, ROUND_SECS);
const rssEnd = divy.rssBytes();
await divy.stop();

printFloorComparisons(comparisons);

console.log(`\n## Fairness: ${QUOTES_PER_SEC} quotes/s (open loop, timed from when due), alone and beside back-to-back ${HEAVY_WORKERS}-worker deltas, ${ROUNDS} alternating rounds of ${ROUND_SECS} s each\n`);
console.log('| | requests | p50 | p99 | shed (503) | failed otherwise |');
console.log('| :--- | ---: | ---: | ---: | ---: | ---: |');
for (const [label, figure] of [
  ['quotes alone', fairness.quotes_alone],
  ['quotes beside the heavy client', fairness.quotes_beside_heavy],
  [`${HEAVY_WORKERS}-worker deltas (back to back)`, fairness.heavy],
] as const) {
  console.log(`| ${label} | ${figure.count} | ${ms(figure.p50_ms)} | ${ms(figure.p99_ms)} | ${figure.shed} | ${figure.failed} |`);
}
const heavyCost = costs.find((figure) => figure.workers === HEAVY_WORKERS)!;
console.log(`\nThe response writer (JSON.stringify, as the app writes its answers) costs ${us(heavyCost.writer_us_per_worker)} per worker at ${HEAVY_WORKERS} workers (${us(heavyCost.writer_us_per_worker * HEAVY_WORKERS)} a request).`);

console.log(`\n## Over HTTP: POST /realtime-delta/batch of ${batch.updates_per_batch} ${batch.workers}-worker updates against single calls (${ROUNDS} alternating rounds)\n`);
console.log('| | single call | batch | per update in the batch | per update, batch / Divy\'s single call |');
console.log('| :--- | ---: | ---: | ---: | ---: |');
console.log(`| Divy | ${us(batch.single_us)} | ${us(batch.batch_us)} | ${us(batch.per_update_us)} | ${batch.ratio.toFixed(2)}x |`);
console.log(`| fair floor (parses the batch, writes Divy's answer) | | ${us(batch.floor_batch_us)} | ${us(batch.floor_per_update_us)} | ${batch.floor_ratio.toFixed(2)}x |`);
console.log('\nServer time per request: the inverse of closed-loop throughput with the server pinned to one core. The floor\'s ratio is the least any server that parses the batch and writes the same answer could reach.');

console.log(`\n## Over HTTP: cost per worker of POST /realtime-delta (${ROUNDS} rounds of ${ROUND_SECS} s, sizes in turn)\n`);
console.log('| workers | req/s | server time per request | per worker | response writer per worker | answer |');
console.log('| ---: | ---: | ---: | ---: | ---: | ---: |');
for (const figure of costs) {
  console.log(`| ${figure.workers} | ${rate(figure.requests_per_sec)} | ${us(1e6 / figure.requests_per_sec)} | ${us(figure.request_us_per_worker)} | ${us(figure.writer_us_per_worker)} | ${(figure.response_bytes / 1000).toFixed(1)} kB |`);
}
writeFileSync(
  PLOT_FILE,
  lineChartSvg({
    title: 'POST /realtime-delta: cost per worker',
    x_label: 'workers (log scale)',
    y_label: 'microseconds per worker',
    series: [
      { name: 'whole request over HTTP (server time)', colour: '#1f77b4', points: costs.map((figure) => [figure.workers, figure.request_us_per_worker]) },
      { name: 'response writer (JSON.stringify)', colour: '#d62728', points: costs.map((figure) => [figure.workers, figure.writer_us_per_worker]) },
    ],
    note: shortMachineLine(),
  }),
);
console.log(`\nPlotted in bench/cost-per-worker.svg.`);

console.log(`\n## Server memory\n\nDivy's RSS: ${mib(rssStart)} before the suite, ${mib(rssEnd)} after it.`);
console.log(`\n${machineLine(pinned)}; ${((Date.now() - started) / 1000).toFixed(0)} s`);

function printFloorComparisons(comparisons: readonly FloorComparison[]): void {
  console.log(`## Over HTTP: Divy against a fair floor (${ROUNDS} alternating rounds of ${ROUND_SECS} s, ${CONNECTIONS} connections, closed loop)\n`);
  console.log('| request | Divy req/s | Divy p50 | Divy p99 | floor req/s | floor p50 | floor p99 | Divy / floor (req/s) |');
  console.log('| :--- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const { label, divy: mine, floor: bare, throughput_ratio } of comparisons) {
    console.log(`| ${label} | ${rate(mine.requests_per_sec)} | ${ms(mine.p50_ms)} | ${ms(mine.p99_ms)} | ${rate(bare.requests_per_sec)} | ${ms(bare.p50_ms)} | ${ms(bare.p99_ms)} | ${throughput_ratio.toFixed(2)} |`);
  }
  const failures = comparisons.reduce((sum, { divy: mine, floor: bare }) => sum + mine.non2xx + mine.errors + bare.non2xx + bare.errors, 0);
  console.log(`\nNon-2xx answers and errors in these rounds: ${failures}.`);
}

if (!process.argv.includes('--http-only')) {
  console.log('');
  await import('./stages.js');
}

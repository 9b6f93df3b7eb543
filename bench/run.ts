/** `npm run bench`: prints each benchmark's figures as a Markdown table. */
import { benchRealtimeDelta } from './realtime-delta.js';

const figures = benchRealtimeDelta();
console.log('## computeRealtimeDelta per call\n');
console.log('| workers | per call | one job repeated | with worker objects | with response body | original model | ratio | ns per (n log2 n) | growth / n log n growth | target (<= 5x from 1024) |');
console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | :---: |');
for (const figure of figures) {
  const target = figure.meets_target === null ? 'n/a' : figure.meets_target ? 'met' : 'MISSED';
  const growth = figure.growth_over_n_log_n === null ? '' : figure.growth_over_n_log_n.toFixed(2);
  console.log(
    `| ${figure.workers} | ${formatMicros(figure.per_call_us)} | ${formatMicros(figure.repeated_job_us)} | ${formatMicros(figure.with_worker_objects_us)} | ${formatMicros(figure.with_response_body_us)} | ${formatMicros(figure.reference_us)} | ${figure.ratio_to_reference.toFixed(2)}x | ${figure.ns_per_n_log2_n.toFixed(1)} | ${growth} | ${target} |`,
  );
}
const growths = figures.filter((figure) => figure.workers > 1024 && figure.growth_over_n_log_n !== null).map((figure) => figure.growth_over_n_log_n!);
const growthMet = growths.every((growth) => growth <= 1);
console.log(`\nGrowth no faster than n log n from 1024 workers up: ${growthMet ? 'met' : 'MISSED'} (${growths.map((growth) => growth.toFixed(2)).join(', ')}).`);
console.log(`\nnode ${process.version}, ${new Date().toISOString()}`);

function formatMicros(micros: number): string {
  return micros >= 1000 ? `${(micros / 1000).toFixed(2)} ms` : `${micros.toFixed(2)} us`;
}

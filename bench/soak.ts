/**
 * `npm run soak`: SOAK_SECS (60) of mixed traffic against the real server, open loop, at the
 * highest rate a short ramp finds it holds: steps of RAMP_SHARES of the closed-loop capacity,
 * RAMP_STEP_SECS each, until a step has an error or a p99 over RAMP_P99_LIMIT_MS. Every answer of
 * the soak must be a 2xx (the designed 204s included; a 503 shed is an error), and the server's RSS
 * may grow by less than RSS_GROWTH_LIMIT from the start of the soak (after the ramp warmed it) to
 * its end. Exits 1 otherwise. Traffic goes to 127.0.0.1 only.
 */
import { closedLoop } from './http/closed-loop.js';
import { machineLine, mib, ms, rate } from './http/format.js';
import { noAnswerReasons, openLoop, type OutgoingRequest } from './http/open-loop.js';
import { pinLoadGenerator, startDivy } from './http/servers.js';
import { quantile } from './http/stats.js';
import { mixedTraffic } from './http/traffic.js';

const SOAK_SECS = Number(process.env['SOAK_SECS'] ?? 60);
const RAMP_SHARES = [0.2, 0.3, 0.4, 0.5, 0.6, 0.7] as const;
const RAMP_STEP_SECS = 3;
/** Well under the 100 ms event-loop delay at which the service sheds by default: a neighbour's burst must not tip the soak over. */
const RAMP_P99_LIMIT_MS = 50;
const RSS_GROWTH_LIMIT_BYTES = 30 * 2 ** 20;
const CAPACITY_SECS = 3;

const pinned = pinLoadGenerator();
const traffic = mixedTraffic(50);
const bodies = traffic.map((entry) => ({ ...entry, body: Buffer.from(entry.body) }));
const divy = await startDivy();
let exitCode = 1;
try {
  const rssLaunch = divy.rssBytes();
  process.stderr.write('soak: measuring the capacity of the mix\n');
  await closedLoop(divy.origin, traffic, { connections: 8, seconds: 1 });
  const capacity = await closedLoop(divy.origin, traffic, { connections: 8, seconds: CAPACITY_SECS });
  const ramp = await rampUp(divy.origin, capacity.requests_per_sec, (index) => bodies[index % bodies.length]!);
  const ratePerSec = ramp.rate_per_sec;
  const rssStart = divy.rssBytes();
  process.stderr.write(`soak: ${ratePerSec} req/s for ${SOAK_SECS} s\n`);
  const statuses = new Map<number, number>();
  const samples = await openLoop(divy.origin, {
    phases: [{ rate_per_sec: ratePerSec, seconds: SOAK_SECS }],
    next: (index) => bodies[index % bodies.length]!,
    max_sockets: 64,
  });
  const rssEnd = divy.rssBytes();
  for (const sample of samples) statuses.set(sample.status, (statuses.get(sample.status) ?? 0) + 1);
  const errors = samples.filter((sample) => sample.status < 200 || sample.status > 299).length;
  const latencies = samples.map((sample) => sample.done_ms - sample.due_ms);
  const growth = rssStart === null || rssEnd === null ? null : rssEnd - rssStart;

  console.log(`## Soak: ${SOAK_SECS} s of mixed traffic at ${ratePerSec} req/s, open loop (closed-loop capacity ${rate(capacity.requests_per_sec)} req/s; ramp: ${ramp.steps.join('; ')})\n`);
  console.log('| requests | errors (non-2xx or no answer) | p50 | p99 | max | RSS at launch | RSS at start | RSS at end | growth |');
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  console.log(
    `| ${samples.length} | ${errors} | ${ms(quantile(latencies, 0.5))} | ${ms(quantile(latencies, 0.99))} | ${ms(quantile(latencies, 1))} | ${mib(rssLaunch)} | ${mib(rssStart)} | ${mib(rssEnd)} | ${growth === null ? 'n/a' : mib(growth)} |`,
  );
  console.log('\n| request | count | p50 | p99 |');
  console.log('| :--- | ---: | ---: | ---: |');
  for (const kind of new Set(traffic.map((entry) => entry.kind))) {
    const ofKind = samples.filter((sample) => sample.kind === kind).map((sample) => sample.done_ms - sample.due_ms);
    console.log(`| ${kind} | ${ofKind.length} | ${ms(quantile(ofKind, 0.5))} | ${ms(quantile(ofKind, 0.99))} |`);
  }
  console.log(`\nStatuses: ${[...statuses].sort(([left], [right]) => left - right).map(([status, count]) => `${status === 0 ? 'no answer' : status}: ${count}`).join(', ')}.`);
  if (noAnswerReasons.size > 0) console.log(`\nNo answer, by reason (ramp included): ${[...noAnswerReasons].map(([reason, count]) => `${reason}: ${count}`).join(', ')}.`);
  console.log(`\n${machineLine(pinned)}`);
  const passed = errors === 0 && growth !== null && growth < RSS_GROWTH_LIMIT_BYTES;
  console.log(`\n${passed ? 'PASS' : 'FAIL'}: ${errors} errors (must be 0), RSS growth ${growth === null ? 'unknown' : mib(growth)} (must be under ${mib(RSS_GROWTH_LIMIT_BYTES)}).`);
  exitCode = passed ? 0 : 1;
} finally {
  await divy.stop();
}
process.exitCode = exitCode;

/** Open-loop steps of rising rate; the rate of the last step with no error and a p99 under the limit (the first step's if none). */
async function rampUp(origin: string, capacity: number, next: (index: number) => OutgoingRequest): Promise<{ rate_per_sec: number; steps: string[] }> {
  const steps: string[] = [];
  let held = Math.max(1, Math.floor(capacity * RAMP_SHARES[0]));
  for (const share of RAMP_SHARES) {
    const ratePerSec = Math.max(1, Math.floor(capacity * share));
    process.stderr.write(`soak: ramp step at ${ratePerSec} req/s\n`);
    const samples = await openLoop(origin, { phases: [{ rate_per_sec: ratePerSec, seconds: RAMP_STEP_SECS }], next, max_sockets: 64 });
    const errors = samples.filter((sample) => sample.status < 200 || sample.status > 299).length;
    const p99 = quantile(samples.map((sample) => sample.done_ms - sample.due_ms), 0.99);
    steps.push(`${ratePerSec} req/s: ${errors} errors, p99 ${ms(p99)}`);
    if (errors > 0 || p99 > RAMP_P99_LIMIT_MS) break;
    held = ratePerSec;
  }
  return { rate_per_sec: held, steps };
}

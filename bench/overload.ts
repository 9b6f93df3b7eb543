/**
 * `npm run bench:overload`: what the service does with three times the load it can carry.
 *
 * 1. Capacity: closed-loop req/s served (2xx) of the traffic OVERLOAD_TRAFFIC names (see TRAFFIC),
 *    the best of CAPACITY_ROUNDS rounds.
 * 2. Unloaded latency: the same requests at UNLOADED_SHARE of capacity, open loop; and, over the
 *    overload's connections, RECOVERY_FACTOR x capacity for BEFORE_SECS: the latency that load
 *    normally has, which recovery is measured against.
 * 3. Overload: OVERLOAD_FACTOR x capacity offered open loop for OVERLOAD_SECS, then
 *    RECOVERY_FACTOR x capacity for RECOVERY_SECS. Latencies count from when a request was due.
 *    Accepted answers are 2xx; shed answers are 503 (a problem+json with Retry-After when the
 *    service sheds, configured by the SHED_* settings, which the server inherits from this
 *    process's environment). The overload's connections are opened before it starts.
 * 4. Recovery: the time from the drop until latency is normal again: the first of
 *    NORMAL_WINDOWS_IN_A_ROW consecutive WINDOW_MS windows (by due time) whose accepted p99 is
 *    within 2x the p99 of the same load before the overload and which shed nothing.
 *
 * OVERLOAD_FRONT=nginx puts the shipped nginx configuration in front of two replicas, and
 * measures the pair. divy_shed_requests_total (of every replica, summed; nginx's own refusals are
 * not in it) is read from GET /metrics before and after. Traffic goes to
 * 127.0.0.1 only, and every phase is bounded in time.
 */
import { closedLoop } from './http/closed-loop.js';
import { machineLine, mib, ms, rate } from './http/format.js';
import { openLoop, type Sample } from './http/open-loop.js';
import { startNginxFront } from './http/nginx-front.js';
import { freePort, pinLoadGenerator, startDivy, type ServerProcess } from './http/servers.js';
import { quantile } from './http/stats.js';
import { mixedTraffic, smallTraffic, workerHeavyTraffic } from './http/traffic.js';

const CAPACITY_SECS = 2;
const CAPACITY_ROUNDS = 3;
const UNLOADED_SHARE = 0.05;
const UNLOADED_SECS = 3;
const OVERLOAD_FACTOR = 3;
const OVERLOAD_SECS = 10;
const RECOVERY_FACTOR = 0.5;
const RECOVERY_SECS = 10;
const BEFORE_SECS = 5;
const WINDOW_MS = 250;
const NORMAL_WINDOWS_IN_A_ROW = 4;
/** Connections the overload may open: enough that requests queue at the server, not in this client. */
const MAX_SOCKETS = 2000;

const pinned = pinLoadGenerator();
/** OVERLOAD_TRAFFIC: 64-worker deltas by default; `mixed` is the soak's mix, `small` quotes and 8-worker deltas. */
const TRAFFIC = {
  'worker-heavy': { title: '64-worker deltas', entries: () => workerHeavyTraffic(64) },
  mixed: { title: "the soak's mix", entries: () => mixedTraffic(64) },
  small: { title: 'quotes and 8-worker deltas', entries: () => smallTraffic(64) },
} as const;
const trafficName = process.env['OVERLOAD_TRAFFIC'] ?? 'worker-heavy';
if (!(trafficName in TRAFFIC)) throw new Error(`OVERLOAD_TRAFFIC must be one of ${Object.keys(TRAFFIC).join(', ')}`);
const chosen = TRAFFIC[trafficName as keyof typeof TRAFFIC];
const traffic = chosen.entries();
const bodies = traffic.map((entry) => ({ ...entry, body: Buffer.from(entry.body) }));
const next = (index: number) => bodies[index % bodies.length]!;
/**
 * OVERLOAD_FRONT=nginx: two replicas on the server core behind nginx with the shipped
 * configuration (deploy/nginx/nginx.conf), on the load generator's core; else one process alone.
 */
const front = process.env['OVERLOAD_FRONT'] ?? 'none';
if (front !== 'none' && front !== 'nginx') throw new Error('OVERLOAD_FRONT must be none or nginx');
const replicas: ServerProcess[] = front === 'nginx' ? [await startDivy(), await startDivy()] : [await startDivy()];
const nginx = front === 'nginx' ? await startNginxFront(replicas.map((replica) => replica.origin), await freePort()) : undefined;
const divy = { origin: nginx?.origin ?? replicas[0]!.origin };
try {
  await closedLoop(divy.origin, traffic, { connections: 16, seconds: 1 });
  process.stderr.write('overload: capacity\n');
  // Only what was served counts: a closed loop at full speed may already be shed now and then.
  // A neighbour on this shared machine can only lower a round's figure, so the best round is kept.
  const rounds = [];
  for (let round = 0; round < CAPACITY_ROUNDS; round += 1) rounds.push(await closedLoop(divy.origin, traffic, { connections: 16, seconds: CAPACITY_SECS }));
  const served = rounds.map((round) => (round.requests - round.non2xx) / round.seconds);
  const capacity = Math.max(...served);
  const closed = { requests: rounds.reduce((sum, round) => sum + round.requests, 0), non2xx: rounds.reduce((sum, round) => sum + round.non2xx, 0) };
  process.stderr.write('overload: unloaded latency\n');
  const unloaded = await openLoop(divy.origin, { phases: [{ rate_per_sec: capacity * UNLOADED_SHARE, seconds: UNLOADED_SECS }], next, max_sockets: 16 });
  const unloadedP99 = quantile(accepted(unloaded).map(latency), 0.99);
  const shedBefore = await shedCount(replicas);
  const rssBefore = rssOf(replicas);

  process.stderr.write(`overload: ${OVERLOAD_FACTOR}x capacity for ${OVERLOAD_SECS} s, then ${RECOVERY_FACTOR}x for ${RECOVERY_SECS} s\n`);
  let shedAnswer: { content_type: string | undefined; retry_after: string | undefined } | undefined;
  const samples = await openLoop(divy.origin, {
    phases: [
      { rate_per_sec: capacity * RECOVERY_FACTOR, seconds: BEFORE_SECS },
      { rate_per_sec: capacity * OVERLOAD_FACTOR, seconds: OVERLOAD_SECS },
      { rate_per_sec: capacity * RECOVERY_FACTOR, seconds: RECOVERY_SECS },
    ],
    next,
    max_sockets: MAX_SOCKETS,
    preconnect: MAX_SOCKETS,
    inspect: (_kind: string, status: number, headers: Readonly<Record<string, string>>) => {
      if (status === 503 && shedAnswer === undefined) shedAnswer = { content_type: headers['content-type'], retry_after: headers['retry-after'] };
    },
  });
  const shedAfter = await shedCount(replicas);
  const rssAfter = rssOf(replicas);

  const overloadFromMs = BEFORE_SECS * 1000;
  const dropMs = overloadFromMs + OVERLOAD_SECS * 1000;
  const before = samples.filter((sample) => sample.due_ms < overloadFromMs);
  const beforeP99 = quantile(accepted(before).map(latency), 0.99);
  const overload = samples.filter((sample) => sample.due_ms >= overloadFromMs && sample.due_ms < dropMs);
  const recovery = samples.filter((sample) => sample.due_ms >= dropMs);
  const overloadAccepted = accepted(overload);
  // Throughput is what was answered while the overload lasted, whenever it was due.
  const answeredInOverload = accepted(samples).filter((sample) => sample.done_ms >= overloadFromMs && sample.done_ms < dropMs).length;
  const shed = overload.filter((sample) => sample.status === 503);
  const failed = overload.filter((sample) => sample.status !== 503 && (sample.status < 200 || sample.status > 299));
  const recoveredAfterMs = recoveryTime(recovery, dropMs, 2 * beforeP99);
  const lastSeconds = recovery.filter((sample) => sample.due_ms >= dropMs + (RECOVERY_SECS - 5) * 1000);

  console.log(`## Overload: ${OVERLOAD_FACTOR}x capacity for ${OVERLOAD_SECS} s, then ${RECOVERY_FACTOR}x (${chosen.title}, open loop${nginx === undefined ? '' : ', two replicas behind nginx'})\n`);
  const settings = ['SHED_MAX_EVENT_LOOP_DELAY_MS', 'SHED_MAX_EVENT_LOOP_UTILIZATION', 'SHED_MAX_HEAP_USED_BYTES'];
  console.log(`Shedding settings: ${settings.map((name) => `${name} ${process.env[name] ?? 'unset (the service default)'}`).join(', ')}.\n`);
  console.log(`| capacity (closed loop) | unloaded p99 | p99 at ${RECOVERY_FACTOR}x before | offered | accepted (2xx answered during the overload) | shed (503) | failed otherwise | accepted p99 | shed p99 | recovery after the drop | p99, last 5 s at 0.5x |`);
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  console.log(
    `| ${rate(capacity)} req/s | ${ms(unloadedP99)} | ${ms(beforeP99)} | ${rate(overload.length / OVERLOAD_SECS)} req/s | ${rate(answeredInOverload / OVERLOAD_SECS)} req/s | ${shed.length} | ${failed.length} | ${ms(quantile(overloadAccepted.map(latency), 0.99))} | ${ms(quantile(shed.map(latency), 0.99))} | ${recoveredAfterMs === null ? `not within ${RECOVERY_SECS} s` : ms(recoveredAfterMs)} | ${ms(quantile(accepted(lastSeconds).map(latency), 0.99))} |`,
  );
  console.log(`\nCapacity rounds served ${served.map((value) => rate(value)).join(', ')} req/s; they got ${closed.non2xx} non-2xx answers of ${closed.requests}.`);
  console.log(`divy_shed_requests_total: ${shedBefore ?? 'absent'} before the overload, ${shedAfter ?? 'absent'} after.`);
  console.log(shedAnswer === undefined ? 'No request was shed.' : `A shed answer: content-type ${shedAnswer.content_type ?? 'none'}, Retry-After ${shedAnswer.retry_after ?? 'none'}.`);
  console.log(`This generator sent its requests late by ${ms(quantile(overload.map((sample) => sample.sent_ms - sample.due_ms), 0.99))} at p99 during the overload (late sends are in the latencies).`);
  console.log(`Divy's RSS${replicas.length > 1 ? ` (${replicas.length} replicas together)` : ''}: ${mib(rssBefore)} before the overload, ${mib(rssAfter)} after.`);
  printTimeline(samples);
  console.log(`\n${machineLine(pinned)}`);
} finally {
  await nginx?.stop();
  for (const replica of replicas) await replica.stop();
}

/** Per second of due time: what was due, how it was answered, and how long the accepted waited. */
function printTimeline(samples: readonly Sample[]): void {
  console.log('\n| second (by due time) | due | accepted | shed | accepted p50 | accepted p99 |');
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: |');
  for (let second = 0; second < BEFORE_SECS + OVERLOAD_SECS + RECOVERY_SECS; second += 1) {
    const inSecond = samples.filter((sample) => sample.due_ms >= second * 1000 && sample.due_ms < (second + 1) * 1000);
    const latencies = accepted(inSecond).map(latency);
    const shed = inSecond.filter((sample) => sample.status === 503).length;
    const p50 = latencies.length === 0 ? '-' : ms(quantile(latencies, 0.5));
    const p99 = latencies.length === 0 ? '-' : ms(quantile(latencies, 0.99));
    console.log(`| ${second} | ${inSecond.length} | ${latencies.length} | ${shed} | ${p50} | ${p99} |`);
  }
}

function accepted(samples: readonly Sample[]): Sample[] {
  return samples.filter((sample) => sample.status >= 200 && sample.status <= 299);
}

function latency(sample: Sample): number {
  return sample.done_ms - sample.due_ms;
}

/** From the drop to the end of the first window that starts NORMAL_WINDOWS_IN_A_ROW normal ones; null if none does. */
function recoveryTime(samples: readonly Sample[], dropMs: number, normalP99: number): number | null {
  const windows = Math.floor((RECOVERY_SECS * 1000) / WINDOW_MS);
  const normal = Array.from({ length: windows }, (_, index) => {
    const start = dropMs + index * WINDOW_MS;
    const inWindow = samples.filter((sample) => sample.due_ms >= start && sample.due_ms < start + WINDOW_MS);
    const answered = accepted(inWindow);
    return answered.length > 0 && answered.length === inWindow.length && quantile(answered.map(latency), 0.99) <= normalP99;
  });
  for (let index = 0; index + NORMAL_WINDOWS_IN_A_ROW <= windows; index += 1) {
    if (normal.slice(index, index + NORMAL_WINDOWS_IN_A_ROW).every(Boolean)) return (index + 1) * WINDOW_MS;
  }
  return null;
}

/** divy_shed_requests_total summed over the replicas, each asked directly. */
async function shedCount(servers: readonly ServerProcess[]): Promise<number | null> {
  let total = 0;
  for (const server of servers) {
    const text = await (await fetch(`${server.origin}/metrics`)).text();
    const line = text.split('\n').find((entry) => entry.startsWith('divy_shed_requests_total'));
    if (line === undefined) return null;
    total += Number(line.split(/\s+/)[1]);
  }
  return total;
}

/** The replicas' RSS together; null off Linux. */
function rssOf(servers: readonly ServerProcess[]): number | null {
  const each = servers.map((server) => server.rssBytes());
  return each.includes(null) ? null : each.reduce<number>((sum, bytes) => sum + bytes!, 0);
}

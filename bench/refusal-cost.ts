/**
 * `npm run bench:refusal`: the CPU time one refusal costs, Divy's (every request shed:
 * SHED_MAX_HEAP_USED_BYTES=1) beside a bare node:http server's (bench/http/bare-refuser.ts), at a
 * few and at many connections. Each server is pinned to the server core; the CPU time comes from
 * /proc/<pid>/stat over the requests answered in closed-loop rounds. Three times a request's
 * capacity can be shed by one process only if three refusals cost less than serving one request.
 * Traffic goes to 127.0.0.1 only.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { quoteRing } from './http/bodies.js';
import { closedLoop } from './http/closed-loop.js';
import { machineLine, us } from './http/format.js';
import { divyNodeArgs, DIVY_SCRIPT, pinLoadGenerator, startServer, type StartOptions } from './http/servers.js';

const CONNECTIONS = [16, 500] as const;
const ROUNDS = 3;
const ROUND_SECS = 3;
const CLOCK_TICKS_PER_SEC = 100;

/** User and system CPU time of a process so far, in microseconds (Linux's /proc; the clock ticks are 100 a second). */
function cpuTimeUs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS_PER_SEC;
}

const servers: readonly StartOptions[] = [
  { name: 'bare node:http', script: fileURLToPath(new URL('./http/bare-refuser.js', import.meta.url)) },
  { name: 'Divy', script: DIVY_SCRIPT, node_args: divyNodeArgs(), env: { SHED_MAX_HEAP_USED_BYTES: '1' } },
];

const pinned = pinLoadGenerator();
const ring = quoteRing(64);
console.log(`## CPU time a refusal costs (${ROUNDS} closed-loop rounds of ${ROUND_SECS} s per server and connection count)\n`);
console.log('| server | connections | CPU a refusal, each round | refusals a second | 2xx answers (none expected) |');
console.log('| :--- | ---: | ---: | ---: | ---: |');
for (const options of servers) {
  const server = await startServer(options);
  try {
    for (const connections of CONNECTIONS) {
      await closedLoop(server.origin, ring, { connections, seconds: 1.5 });
      const perRefusal: string[] = [];
      const perSecond: string[] = [];
      let notRefused = 0;
      for (let round = 0; round < ROUNDS; round += 1) {
        const before = cpuTimeUs(server.pid);
        const figure = await closedLoop(server.origin, ring, { connections, seconds: ROUND_SECS });
        perRefusal.push(us((cpuTimeUs(server.pid) - before) / figure.requests));
        perSecond.push(figure.requests_per_sec.toFixed(0));
        notRefused += figure.requests - figure.non2xx;
      }
      console.log(`| ${options.name} | ${connections} | ${perRefusal.join(', ')} | ${perSecond.join(', ')} | ${notRefused} |`);
    }
  } finally {
    await server.stop();
  }
}
console.log(`\n${machineLine(pinned)}`);

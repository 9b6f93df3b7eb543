/**
 * The heavy client of the fairness run, in a process of its own: it posts the largest deltas the
 * service takes, back to back, until a line arrives on stdin, then prints its samples as one JSON
 * line and exits. In the measuring process, receiving a 3.5 MB answer every 50 ms stalled its
 * event loop (33 stalls over 10 ms in a 24 s run, as many as the server's): quotes answered during
 * a stall were timed late, which is the client's wait, not the service's. The parent runs it on
 * the load generator's core at a lower priority, so the quotes' client is woken first.
 *
 * argv: origin, path, then the file the bodies are in (a JSON array of strings).
 */
import { readFileSync } from 'node:fs';
import { backToBack } from './open-loop.js';

const [origin, path, bodiesFile] = process.argv.slice(2) as [string, string, string];
const bodies = (JSON.parse(readFileSync(bodiesFile, 'utf8')) as string[]).map((body) => Buffer.from(body));
let stop = false;
process.stdin.once('data', () => (stop = true));
process.stdout.write('ready\n');
const samples = await backToBack(origin, (index) => ({ kind: 'heavy', path, body: bodies[index % bodies.length]! }), () => stop);
process.stdout.write(`${JSON.stringify(samples)}\n`);
process.exit(0);

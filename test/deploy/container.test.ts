/**
 * No container engine runs here, so these tests run what the image runs: its CMD with its ENV,
 * and its HEALTHCHECK command against that process.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { SERVER_NODE_FLAGS } from '../../src/node-flags.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const dockerfile = readFileSync(`${ROOT}Dockerfile`, 'utf8');
const compose = readFileSync(`${ROOT}docker-compose.yml`, 'utf8');

/** The JSON-array argument of the last line starting with `instruction` (joined across `\` continuations). */
function execForm(instruction: string): string[] {
  const joined = dockerfile.replace(/\\\n\s*/g, ' ');
  const lines = joined.split('\n').filter((line) => line.startsWith(`${instruction} `));
  const json = /(\[.*\])\s*$/.exec(lines.at(-1) ?? '')?.[1];
  if (json === undefined) throw new Error(`no exec-form ${instruction} in the Dockerfile`);
  return JSON.parse(json) as string[];
}

function imageEnvironment(): Record<string, string> {
  const line = dockerfile.split('\n').find((text) => text.startsWith('ENV ')) ?? '';
  return Object.fromEntries(line.slice(4).trim().split(/\s+/).map((pair) => pair.split('=') as [string, string]));
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Runs the image's HEALTHCHECK command; its exit status is what the engine would see. */
function healthcheck(env: NodeJS.ProcessEnv): number | null {
  const [command, ...args] = healthcheckCommand();
  return spawnSync(command === 'node' ? process.execPath : command!, args, { env, timeout: 5000 }).status;
}

function healthcheckCommand(): string[] {
  const joined = dockerfile.replace(/\\\n\s*/g, ' ');
  const line = joined.split('\n').find((text) => text.startsWith('HEALTHCHECK ')) ?? '';
  const json = /CMD\s+(\[.*\])\s*$/.exec(line)?.[1];
  if (json === undefined) throw new Error('no exec-form HEALTHCHECK CMD in the Dockerfile');
  return JSON.parse(json) as string[];
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

let child: ChildProcess | undefined;

afterEach(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  child = undefined;
});

describe('container image', () => {
  it('sets the environment the service needs to be reachable', () => {
    expect(imageEnvironment()).toMatchObject({ NODE_ENV: 'production', HOST: '0.0.0.0', PORT: '3000' });
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
  });

  it('starts with node, the server flags and dist/server.js, the command npm start execs', () => {
    const packageJson = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { scripts: Record<string, string> };
    expect(execForm('CMD')).toEqual(['node', ...SERVER_NODE_FLAGS, 'dist/server.js']);
    expect(packageJson.scripts.start).toBe(['exec', 'node', ...SERVER_NODE_FLAGS, 'dist/server.js'].join(' '));
  });

  it('answers its health check while serving, and stops cleanly on SIGTERM', async () => {
    const env = { ...process.env, ...imageEnvironment(), PORT: String(await freePort()), LOG_LEVEL: 'silent' };
    const [command, ...args] = execForm('CMD');
    child = spawn(command === 'node' ? process.execPath : command!, args, { cwd: ROOT, env, stdio: 'ignore' });
    expect(await waitFor(() => healthcheck(env) === 0, 10_000)).toBe(true);
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(healthcheck(env)).toBe(1);
  });
});

describe('compose file', () => {
  it('publishes the port, binds all interfaces and checks /healthz', () => {
    expect(compose).toMatch(/- "3000:3000"/);
    expect(compose).toMatch(/HOST: 0\.0\.0\.0/);
    expect(compose).toMatch(/healthcheck:\n\s+test: \[.*\/healthz.*\]/);
    expect(compose).toMatch(/build: \./);
  });
});

/**
 * The runtime image holds only what its COPY lines bring. No container engine runs here, so the
 * runtime stage's files are laid out in a temporary directory as those lines lay them out (the
 * build stage's dist/ is the dist/ global-setup builds; node_modules is linked, as `npm ci
 * --omit=dev` would install it) and the image's CMD runs there: a file the service reads at start
 * that no COPY line brings fails here, not in production.
 */
import { cpSync, readFileSync, symlinkSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SERVER_NODE_FLAGS } from '../../src/node-flags.js';
import { get, listeningPort, NO_SHEDDING, ROOT, useServiceProcesses, withTimeout } from '../support/service-process.js';
import { useTempDir } from '../support/temp-dir.js';

const dockerfile = readFileSync(`${ROOT}Dockerfile`, 'utf8');

/** The runtime stage: from its FROM line to the end. */
function runtimeStage(): string {
  const stages = dockerfile.split(/^(?=FROM )/m);
  return stages.at(-1)!;
}

/** Each COPY of the runtime stage as [source, destination], sources relative to the build context (or the build stage's /app). */
function runtimeCopies(): { from_build: boolean; sources: string[]; destination: string }[] {
  return runtimeStage()
    .split('\n')
    .filter((line) => line.startsWith('COPY '))
    .map((line) => {
      const words = line.slice(5).trim().split(/\s+/);
      const from_build = words[0]!.startsWith('--from=');
      const paths = from_build ? words.slice(1) : words;
      return { from_build, sources: paths.slice(0, -1), destination: paths.at(-1)! };
    });
}

describe('the runtime image layout', () => {
  const temp = useTempDir('divy-image-');
  const processes = useServiceProcesses();

  it('copies the built service, the manifests and the console, and nothing from the sources', () => {
    const copies = runtimeCopies();
    expect(copies).toEqual([
      { from_build: false, sources: ['package.json', 'package-lock.json'], destination: './' },
      { from_build: true, sources: ['/app/dist'], destination: './dist' },
      { from_build: false, sources: ['console'], destination: './console' },
    ]);
  });

  it('starts from exactly those files and serves the API and the console page', async () => {
    const root = temp.path('app');
    for (const copy of runtimeCopies()) {
      for (const source of copy.sources) {
        const from = copy.from_build ? `${ROOT}${source.replace(/^\/app\//, '')}` : `${ROOT}${source}`;
        const to = copy.destination === './' ? `${root}/${source}` : `${root}/${copy.destination.replace(/^\.\//, '')}`;
        cpSync(from, to, { recursive: true });
      }
    }
    symlinkSync(`${ROOT}node_modules`, `${root}/node_modules`, 'dir');

    const server = processes.start({ PORT: '0', HOST: '127.0.0.1', NODE_ENV: 'production', SHUTDOWN_DRAIN_MS: '0', LOG_LEVEL: 'info', ...NO_SHEDDING }, [process.execPath, ...SERVER_NODE_FLAGS, `${root}/dist/server.js`]);
    const { port } = await listeningPort(server, 20_000);
    expect((await get(port, '/healthz')).status).toBe(200);
    const page = await get(port, '/console');
    expect(page.status).toBe(200);
    expect(page.body).toContain('<html');
    server.child.kill('SIGTERM');
    expect(await withTimeout(server.exited, 15_000, 'the exit after SIGTERM')).toBe(0);
  });
});

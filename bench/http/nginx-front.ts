/**
 * The shipped nginx configuration in front of local replicas: for the overload bench, and for the
 * tests of that file (test/deploy/nginx.test.ts), which derive their configuration the same way.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const NGINX = '/usr/sbin/nginx';
export const NGINX_CONF_PATH = 'deploy/nginx/nginx.conf';
/** The CPU nginx runs on here: the load generator's, so that the replicas keep theirs. */
const NGINX_CPU = '1';

/** The directives that name a file or directory, and are moved into a run's own directory. */
const PATH_DIRECTIVES = ['pid', 'error_log', 'access_log', 'client_body_temp_path', 'proxy_temp_path', 'fastcgi_temp_path', 'uwsgi_temp_path', 'scgi_temp_path'];

/**
 * The shipped configuration for a local run: the upstream's `server` lines point at `upstreams`
 * (each keeps the parameters of the shipped line), `listen` at `listen`, and every file path into
 * `directory`. Every other line is the shipped one, byte for byte.
 */
export function nginxConfigFor(shipped: string, options: { upstreams: readonly string[]; listen: string; directory: string }): string {
  const lines = shipped.split('\n');
  const serverLines = lines.flatMap((line, index) => (/^\s*server\s+\S+:\d+(\s|;)/.test(line) ? [index] : []));
  if (serverLines.length < options.upstreams.length) throw new Error(`the shipped upstream has ${serverLines.length} servers, fewer than ${options.upstreams.length}`);
  const first = serverLines[0]!;
  const replaced = options.upstreams.map((address, index) => lines[serverLines[index]!]!.replace(/(server\s+)\S+:\d+/, `$1${address}`));
  const derived = lines
    .map((line, index) => (index === first ? replaced.join('\n') : serverLines.includes(index) ? null : line))
    .filter((line): line is string => line !== null)
    .map((line) => line.replace(/^(\s*listen\s+)\S+;/, `$1${options.listen};`))
    .map((line) => {
      const directive = PATH_DIRECTIVES.find((name) => new RegExp(`^\\s*${name}\\s`).test(line));
      if (directive === undefined) return line;
      return line.replace(/(\s)(\/\S+?)(;|\s)/, (_, before: string, path: string, after: string) => `${before}${options.directory}/${path.split('/').at(-1)}${after}`);
    });
  return derived.join('\n');
}

export interface NginxFront {
  readonly origin: string;
  stop(): Promise<void>;
}

/** Runs nginx with the shipped configuration in front of `upstreams` (origins), on CPU 1 where taskset is found. */
export async function startNginxFront(upstreams: readonly string[], port: number): Promise<NginxFront> {
  if (!existsSync(NGINX)) throw new Error(`${NGINX} is missing: install Debian's nginx`);
  const directory = mkdtempSync(join(tmpdir(), 'divy-bench-nginx-'));
  // nginx's workers run as an unprivileged user when run as root: they must write here.
  chmodSync(directory, 0o777);
  const shipped = readFileSync(fileURLToPath(new URL(`../../../../${NGINX_CONF_PATH}`, import.meta.url)), 'utf8');
  const config = nginxConfigFor(shipped, { upstreams: upstreams.map((origin) => new URL(origin).host), listen: `127.0.0.1:${port}`, directory });
  writeFileSync(join(directory, 'nginx.conf'), config);
  const args = ['-p', directory, '-c', join(directory, 'nginx.conf'), '-e', join(directory, 'startup-error.log'), '-g', 'daemon off;'];
  const pinned = spawnSync('taskset', ['-c', NGINX_CPU, 'true']).status === 0;
  const child: ChildProcess = pinned ? spawn('taskset', ['-c', NGINX_CPU, NGINX, ...args], { stdio: 'ignore' }) : spawn(NGINX, args, { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const origin = `http://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 100; attempt += 1) {
    if ((await fetch(`${origin}/healthz`).then((response) => response.status).catch(() => 0)) === 200) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    origin,
    async stop() {
      // SIGQUIT: nginx's graceful stop, which takes its workers down with it.
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGQUIT');
      await exited;
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

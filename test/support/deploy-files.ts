/**
 * The deployment files as data: the Dockerfile's environment, docker-compose.yml, the Kubernetes
 * manifests and the nginx configuration (a small parser of nginx's syntax, enough for our file).
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { ROOT } from './service-process.js';

export { NGINX_CONF_PATH } from '../../bench/http/nginx-front.js';

export function readProjectFile(path: string): string {
  return readFileSync(`${ROOT}${path}`, 'utf8');
}

/** A YAML file of the project as plain data (aliases and anchors resolved). */
export function readYaml<T = Record<string, unknown>>(path: string): T {
  return parse(readProjectFile(path)) as T;
}

/** The `ENV` pairs of the Dockerfile (the image's environment). */
export function imageEnvironment(): Record<string, string> {
  const line = readProjectFile('Dockerfile').split('\n').find((text) => text.startsWith('ENV ')) ?? '';
  return Object.fromEntries(line.slice(4).trim().split(/\s+/).map((pair) => pair.split('=') as [string, string]));
}

/** One directive: `name args...;` or `name args... { block }`. */
export interface NginxDirective {
  readonly name: string;
  readonly args: readonly string[];
  readonly block?: readonly NginxDirective[];
}

/** Words, quoted strings and `{ } ;`, with comments dropped. */
function tokens(text: string): string[] {
  const found: string[] = [];
  const pattern = /#[^\n]*|"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|([{};])|([^\s{};"'#]+)/g;
  for (const match of text.matchAll(pattern)) {
    if (match[0].startsWith('#')) continue;
    found.push(match[1] ?? match[2] ?? match[3] ?? match[4]!);
  }
  return found;
}

export function parseNginx(text: string): NginxDirective[] {
  const all = tokens(text);
  let at = 0;
  function block(): NginxDirective[] {
    const directives: NginxDirective[] = [];
    while (at < all.length && all[at] !== '}') {
      const name = all[at++]!;
      const args: string[] = [];
      while (at < all.length && all[at] !== ';' && all[at] !== '{') args.push(all[at++]!);
      if (all[at] === '{') {
        at += 1;
        directives.push({ name, args, block: block() });
        if (all[at++] !== '}') throw new Error(`nginx: block of ${name} is not closed`);
      } else {
        if (all[at++] !== ';') throw new Error(`nginx: ${name} does not end with ;`);
        directives.push({ name, args });
      }
    }
    return directives;
  }
  const parsed = block();
  if (at !== all.length) throw new Error('nginx: unbalanced }');
  return parsed;
}

/** Every directive of this name inside `directives`, at any depth. */
export function findAll(directives: readonly NginxDirective[], name: string): NginxDirective[] {
  return directives.flatMap((directive) => [...(directive.name === name ? [directive] : []), ...findAll(directive.block ?? [], name)]);
}

/** The one directive of this name, at any depth; throws if there is none or more than one. */
export function findOne(directives: readonly NginxDirective[], name: string): NginxDirective {
  const found = findAll(directives, name);
  if (found.length !== 1) throw new Error(`nginx: expected one ${name}, found ${found.length}`);
  return found[0]!;
}

/** An nginx time (`500ms`, `4s`, `1m`, a bare number is seconds) in milliseconds. */
export function nginxTimeMs(value: string): number {
  const match = /^(\d+)(ms|s|m|h)?$/.exec(value);
  if (match === null) throw new Error(`nginx: not a time: ${value}`);
  const unitMs = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] ?? 's']!;
  return Number(match[1]) * unitMs;
}

/** An nginx size (`512`, `8k`, `5m`) in bytes. */
export function nginxSizeBytes(value: string): number {
  const match = /^(\d+)([kKmMgG])?$/.exec(value);
  if (match === null) throw new Error(`nginx: not a size: ${value}`);
  const scale = { k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(match[2] ?? '').toLowerCase() as 'k' | 'm' | 'g'] ?? 1;
  return Number(match[1]) * scale;
}

export { nginxConfigFor } from '../../bench/http/nginx-front.js';

/**
 * The service's logger (src/logger.ts) in a real process: JSON lines on stdout, each one written
 * before the log call returns, so a process killed right after a line still leaves it. pino's
 * default destination would still hold it in a write queued to libuv's thread pool.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Runs `script` (an ES module importing dist/logger.js as `createLogger`) and returns its stdout lines. */
function linesOf(script: string): { lines: string[]; signal: NodeJS.Signals | null } {
  const source = `import { createLogger } from './dist/logger.js';\n${script}`;
  const result = spawnSync(process.execPath, ['--input-type=module', '-'], { cwd: ROOT, input: source, encoding: 'utf8', timeout: 20_000 });
  return { lines: result.stdout.split('\n').filter((line) => line.length > 0), signal: result.signal };
}

describe('the service logger', () => {
  it('writes every line before the call returns: a process killed at once keeps all of them', () => {
    const { lines, signal } = linesOf(`
      const logger = createLogger('info');
      for (let index = 0; index < 200; index += 1) logger.info({ index }, 'line');
      process.kill(process.pid, 'SIGKILL');
    `);
    expect(signal).toBe('SIGKILL');
    expect(lines.map((line) => (JSON.parse(line) as { index: number }).index)).toEqual(Array.from({ length: 200 }, (_, index) => index));
  });

  it('writes JSON lines with the level, an ISO time, pid and hostname, and the message', () => {
    const { lines } = linesOf(`createLogger('info').info({ request_id: 'r-1' }, 'request completed');`);
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(Object.keys(line)).toEqual(['level', 'time', 'pid', 'hostname', 'request_id', 'msg']);
    expect(line).toMatchObject({ level: 30, request_id: 'r-1', msg: 'request completed' });
    expect(new Date(line['time'] as string).toISOString()).toBe(line['time']);
  });

  it('leaves out what is under its level', () => {
    const { lines } = linesOf(`const logger = createLogger('warn'); logger.info('quiet'); logger.warn('loud');`);
    expect(lines.map((line) => (JSON.parse(line) as { msg: string }).msg)).toEqual(['loud']);
  });
});

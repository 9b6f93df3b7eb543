/**
 * The service's logger (src/logger.ts) in real processes: JSON lines on stdout, gathered into
 * writes of LOG_WRITE_BYTES_MIN bytes, written at least every LOG_FLUSH_INTERVAL_MS, and all
 * written when the process exits, by process.exit or an uncaught exception.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LOG_FLUSH_INTERVAL_MS, LOG_WRITE_BYTES_MIN } from '../src/logger.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const LINES = 200;

/** Runs `script` (an ES module importing dist/logger.js as `createLogger`); its stdout lines and how it ended. */
function run(script: string): { lines: string[]; status: number | null; signal: NodeJS.Signals | null } {
  const source = `import { createLogger } from './dist/logger.js';\n${script}`;
  const result = spawnSync(process.execPath, ['--input-type=module', '-'], { cwd: ROOT, input: source, encoding: 'utf8', timeout: 20_000 });
  return { lines: result.stdout.split('\n').filter((line) => line.length > 0), status: result.status, signal: result.signal };
}

const indexes = (lines: readonly string[]) => lines.map((line) => (JSON.parse(line) as { index: number }).index);
const ALL = Array.from({ length: LINES }, (_, index) => index);
const LOG_LINES = `const logger = createLogger('info'); for (let index = 0; index < ${LINES}; index += 1) logger.info({ index }, 'line');`;

describe('the service logger', () => {
  it('writes every line when the process exits at once', () => {
    const { lines, status } = run(`${LOG_LINES} process.exit(3);`);
    expect(status).toBe(3);
    expect(indexes(lines)).toEqual(ALL);
  });

  it('writes every line when the process dies of an uncaught exception', () => {
    const { lines, status } = run(`${LOG_LINES} throw new Error('a bug');`);
    expect(status).toBe(1);
    expect(indexes(lines)).toEqual(ALL);
  });

  it('writes a lone line by the flush interval, with nothing else to write', () => {
    const { lines, signal } = run(`
      createLogger('info').info({ index: 0 }, 'line');
      setTimeout(() => process.kill(process.pid, 'SIGKILL'), ${4 * LOG_FLUSH_INTERVAL_MS});
    `);
    expect(signal).toBe('SIGKILL');
    expect(indexes(lines)).toEqual([0]);
  });

  it('gathers lines into writes: a process killed outright loses only what was gathered, under LOG_WRITE_BYTES_MIN', () => {
    const { lines, signal } = run(`${LOG_LINES} process.kill(process.pid, 'SIGKILL');`);
    expect(signal).toBe('SIGKILL');
    // What was written is the lines in order, whole; what was lost is their tail, less than one write.
    expect(indexes(lines)).toEqual(ALL.slice(0, lines.length));
    expect(lines.length).toBeLessThan(LINES);
    const lineBytes = Buffer.byteLength(`${lines[0]!}\n`);
    expect((LINES - lines.length) * lineBytes).toBeLessThan(LOG_WRITE_BYTES_MIN + lineBytes);
  });

  it('writes JSON lines with the level, an ISO time, pid and hostname, and the message', () => {
    const { lines } = run(`createLogger('info').info({ request_id: 'r-1' }, 'request completed');`);
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(Object.keys(line)).toEqual(['level', 'time', 'pid', 'hostname', 'request_id', 'msg']);
    expect(line).toMatchObject({ level: 30, request_id: 'r-1', msg: 'request completed' });
    expect(new Date(line['time'] as string).toISOString()).toBe(line['time']);
  });

  it('leaves out what is under its level', () => {
    const { lines } = run(`const logger = createLogger('warn'); logger.info('quiet'); logger.warn('loud');`);
    expect(lines.map((line) => (JSON.parse(line) as { msg: string }).msg)).toEqual(['loud']);
  });
});

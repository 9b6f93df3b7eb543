import { createRequire } from 'node:module';
import { pino, type Logger } from 'pino';

/**
 * JSON lines for machines; pretty lines when a person watches a terminal and pino-pretty is installed.
 *
 * The lines are written to stdout synchronously, as Node itself writes to files and pipes on
 * Linux: a line is out of the process before the call returns, so a crash loses none, and no
 * write waits on libuv's thread pool. pino's own default hands each write to that pool; with the
 * server pinned to one core, that was a thread switch for about every other request, and the
 * small requests of the HTTP suite answered 10 to 15% faster without it (BENCHMARKS.md).
 */
export function createLogger(level: string): Logger {
  const options = {
    level,
    timestamp: pino.stdTimeFunctions.isoTime,
    // No line logs request headers today; should one ever, the bearer token stays out of it.
    redact: { paths: ['req.headers.authorization', 'headers.authorization'], censor: '[redacted]' },
  };
  if (process.stdout.isTTY && prettyPrinterInstalled()) {
    return pino({ ...options, transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l' } } });
  }
  return pino(options, pino.destination({ dest: STDOUT_FD, sync: true }));
}

const STDOUT_FD = 1;

function prettyPrinterInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}

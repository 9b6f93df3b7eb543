import { createRequire } from 'node:module';
import { pino, type Logger } from 'pino';

/**
 * Lines are gathered into writes of at least this many bytes (about a dozen request lines): each
 * write is a system call, and one a line cost a small request about a tenth of its time
 * (BENCHMARKS.md).
 */
export const LOG_WRITE_BYTES_MIN = 4096;
/** What is gathered is written at least this often, however few lines come. */
export const LOG_FLUSH_INTERVAL_MS = 250;
const STDOUT_FD = 1;

/**
 * JSON lines for machines; pretty lines when a person watches a terminal and pino-pretty is installed.
 *
 * The lines go to stdout in synchronous writes, as Node itself writes to files and pipes on
 * Linux. pino's default destination hands every write to libuv's thread pool: with the server
 * pinned to one core, that was a thread switch for about every other request. Lines are gathered
 * into writes of LOG_WRITE_BYTES_MIN bytes, written at least every LOG_FLUSH_INTERVAL_MS, and
 * written out when the process exits, also after an uncaught exception; a process killed outright
 * (SIGKILL, the kernel's OOM killer) loses what was gathered, at most LOG_FLUSH_INTERVAL_MS of lines.
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
  const destination = pino.destination({ dest: STDOUT_FD, sync: true, minLength: LOG_WRITE_BYTES_MIN, periodicFlush: LOG_FLUSH_INTERVAL_MS });
  process.once('exit', () => destination.flushSync());
  return pino(options, destination);
}

function prettyPrinterInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}

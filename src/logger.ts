import { createRequire } from 'node:module';
import { pino, type Logger, type LoggerOptions } from 'pino';
import { LineGatherer } from './log-gatherer.js';

/**
 * Lines are gathered into writes of at least this many bytes (about a dozen request lines; a
 * character is a byte in these ASCII lines): each write is a system call, and one a line cost a
 * small request about a tenth of its time (BENCHMARKS.md).
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
  const options = loggerOptions(level);
  if (process.stdout.isTTY && prettyPrinterInstalled()) {
    return pino({ ...options, transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l' } } });
  }
  const destination = new LineGatherer(pino.destination({ dest: STDOUT_FD, sync: true }), { chars_min: LOG_WRITE_BYTES_MIN, flush_interval_ms: LOG_FLUSH_INTERVAL_MS });
  process.once('exit', () => destination.flushSync());
  return pino(options, destination);
}

/**
 * pino's isoTime, written once a millisecond: a busy replica logs dozens of lines in each, and
 * formatting the date anew for each line cost a small request about 5 us in the server (BENCHMARKS.md).
 */
function isoTimeOfTheMillisecond(): () => string {
  let millisecond = Number.NaN;
  let field = '';
  return () => {
    const now = Date.now();
    if (now !== millisecond) {
      millisecond = now;
      field = `,"time":"${new Date(now).toISOString()}"`;
    }
    return field;
  };
}

/** Everything about a line but where it goes: the level, the time, redaction. */
export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    timestamp: isoTimeOfTheMillisecond(),
    // No line logs request headers today; should one ever, the bearer token stays out of it.
    redact: { paths: ['req.headers.authorization', 'headers.authorization'], censor: '[redacted]' },
  };
}

function prettyPrinterInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}

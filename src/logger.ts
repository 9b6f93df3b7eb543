import { createRequire } from 'node:module';
import { pino, type Logger } from 'pino';

/** JSON lines for machines; pretty lines when a person watches a terminal and pino-pretty is installed. */
export function createLogger(level: string): Logger {
  const pretty = process.stdout.isTTY && prettyPrinterInstalled();
  return pino({
    level,
    timestamp: pino.stdTimeFunctions.isoTime,
    // No line logs request headers today; should one ever, the bearer token stays out of it.
    redact: { paths: ['req.headers.authorization', 'headers.authorization'], censor: '[redacted]' },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l' } } } : {}),
  });
}

function prettyPrinterInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}

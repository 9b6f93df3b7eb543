/**
 * The request line the log controller writes itself is the line pino's info() writes for the
 * same fields, byte for byte; a logger whose options would change that line gets info() instead.
 */
import fc from 'fast-check';
import { pino, type LoggerOptions } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { REQUEST_COMPLETED_MESSAGE, writeRequestCompleted, writesPlainLines, type RequestLineFields } from '../../src/http/request-log.js';
import { loggerOptions } from '../../src/logger.js';
import { QUOTE_EXAMPLE } from '../../src/http/schemas/examples.js';
import { captureLogLines } from '../support/log-lines.js';
import { postJson, useApp } from '../support/http.js';

/** A logger of `options` whose lines land in `written`, one string a write. */
function capturingLogger(options: LoggerOptions): { logger: pino.Logger; written: string[] } {
  const written: string[] = [];
  return { logger: pino(options, { write: (line: string) => void written.push(line) }), written };
}

// Node's parser hands over the request line's bytes as latin1 characters, controls included.
const latin1Text = fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((code) => String.fromCharCode(code)), maxLength: 300 });
const fields: fc.Arbitrary<RequestLineFields> = fc.record(
  {
    method: fc.constantFrom('GET', 'POST', 'DELETE', 'OPTIONS', 'M-SEARCH'),
    url: fc.oneof(latin1Text, fc.webPath()),
    status_code: fc.integer({ min: 100, max: 599 }),
    response_time_ms: fc.oneof(fc.double({ noNaN: false }), fc.double({ min: 0, max: 60_000, noNaN: true })),
    problem_type: fc.constantFrom('urn:divy:problem:invalid-request', 'urn:divy:problem:overloaded', 'a "quoted" \\ type'),
  },
  { requiredKeys: ['method', 'url', 'status_code', 'response_time_ms'] },
);
const bindings = fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }).filter((key) => !['level', 'time', 'pid', 'hostname', 'msg'].includes(key)), fc.oneof(fc.string(), fc.integer()), { maxKeys: 3 });

describe('the request line written without pino formatting it', () => {
  // Both lines of a comparison are stamped in the same millisecond.
  beforeEach(() => void vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-12-06T19:45:01.234Z') }));
  afterEach(() => void vi.useRealTimers());

  const optionSets: Array<[string, LoggerOptions]> = [
    ['the service logger', loggerOptions('info')],
    ['pino\'s defaults', { level: 'info' }],
    ['no base and no time', { level: 'info', base: null, timestamp: false }],
    ['another message key, level formatter and line end', { level: 'info', messageKey: 'message', formatters: { level: (label) => ({ severity: label }) }, crlf: true }],
  ];

  it.each(optionSets)('is what info() writes, byte for byte, for any fields and bindings: %s', (_name, options) => {
    const { logger, written } = capturingLogger(options);
    expect(writesPlainLines(logger)).toBe(true);
    fc.assert(
      fc.property(fields, fc.uuid(), bindings, (line, request_id, extra) => {
        written.length = 0;
        const child = logger.child({ ...extra, request_id });
        child.info(line, REQUEST_COMPLETED_MESSAGE);
        writeRequestCompleted(child, line);
        expect(written).toHaveLength(2);
        expect(written[1]).toBe(written[0]);
      }),
    );
  });

  it.each<[string, LoggerOptions]>([
    ['a mixin', { mixin: () => ({ extra: 1 }) }],
    ['a nested key', { nestedKey: 'payload' }],
    ['a message prefix', { msgPrefix: '[divy] ' }],
    ['a log formatter', { formatters: { log: (object) => ({ ...object, extra: 1 }) } }],
    ['a stream-write hook', { hooks: { streamWrite: (line) => line } }],
    ['a serializer for a field of the line', { serializers: { url: () => '[hidden]' } }],
    ['redaction of a field of the line', { redact: ['url'] }],
    ['redaction of every top-level key', { redact: ['*.secret'] }],
  ])('is not used for a logger with %s', (_name, options) => {
    expect(writesPlainLines(capturingLogger({ level: 'info', ...options }).logger)).toBe(false);
  });

  it('is not used for a logger that is not pino', () => {
    const ignore = () => undefined;
    const notPino = { level: 'info', fatal: ignore, error: ignore, warn: ignore, info: ignore, debug: ignore, trace: ignore, silent: ignore, child: () => notPino };
    expect(writesPlainLines(notPino)).toBe(false);
  });
});

describe('the app with a logger whose lines it cannot write itself', () => {
  const { lines, stream } = captureLogLines();
  const app = useApp({ logger: pino({ level: 'info', mixin: () => ({ replica: 'r-1' }) }, stream) });

  it('logs the request line through info(), with the mixin\'s fields', async () => {
    await postJson(app(), '/quote', QUOTE_EXAMPLE, { 'x-request-id': 'mixin-1' });
    const line = lines.map((text) => JSON.parse(text) as Record<string, unknown>).find((entry) => entry['request_id'] === 'mixin-1');
    expect(line).toMatchObject({ replica: 'r-1', msg: REQUEST_COMPLETED_MESSAGE, method: 'POST', url: '/quote', status_code: 200 });
  });
});

/** LineGatherer: lines reach the destination whole, in order, in writes of at least the minimum. */
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LineGatherer } from '../src/log-gatherer.js';

function recordingDestination(): { writes: string[]; flushes: number[]; destination: { write(text: string): boolean; flushSync(): void } } {
  const writes: string[] = [];
  const flushes: number[] = [];
  return { writes, flushes, destination: { write: (text) => (writes.push(text), true), flushSync: () => void flushes.push(writes.length) } };
}

describe('LineGatherer', () => {
  afterEach(() => void vi.useRealTimers());

  it('hands every line over in order, in writes of at least chars_min characters, the rest on flushSync', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 300 }).map((text) => `${text}\n`), { maxLength: 200 }), fc.integer({ min: 1, max: 5000 }), (lines, chars_min) => {
        const { writes, flushes, destination } = recordingDestination();
        const gatherer = new LineGatherer(destination, { chars_min, flush_interval_ms: 60_000 });
        for (const line of lines) gatherer.write(line);
        const beforeFlush = writes.length;
        for (const text of writes) expect(text.length).toBeGreaterThanOrEqual(chars_min);
        gatherer.flushSync();
        expect(writes.join('')).toBe(lines.join(''));
        expect(writes.length - beforeFlush).toBeLessThanOrEqual(1);
        expect(flushes).toEqual([writes.length]);
      }),
    );
  });

  it('hands a lone line over once the flush interval has passed', () => {
    vi.useFakeTimers();
    const { writes, destination } = recordingDestination();
    const gatherer = new LineGatherer(destination, { chars_min: 4096, flush_interval_ms: 250 });
    gatherer.write('{"msg":"alone"}\n');
    vi.advanceTimersByTime(249);
    expect(writes).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(writes).toEqual(['{"msg":"alone"}\n']);
    vi.advanceTimersByTime(1000);
    expect(writes).toHaveLength(1);
  });

  it.each([
    [{ chars_min: 0, flush_interval_ms: 250 }],
    [{ chars_min: 4096, flush_interval_ms: 0 }],
    [{ chars_min: Number.NaN, flush_interval_ms: 250 }],
  ])('refuses limits that are not positive: %o', (options) => {
    expect(() => new LineGatherer(recordingDestination().destination, options)).toThrow('chars_min and flush_interval_ms must be positive');
  });
});

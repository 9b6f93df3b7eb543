/** A pino destination that keeps every line written to it, for tests that read the logs. */
import { Writable } from 'node:stream';

export interface CapturedLines {
  /** The lines written so far, in order; a test may empty it (`lines.length = 0`). */
  readonly lines: string[];
  readonly stream: Writable;
}

export function captureLogLines(): CapturedLines {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter((line) => line.length > 0));
      done();
    },
  });
  return { lines, stream };
}

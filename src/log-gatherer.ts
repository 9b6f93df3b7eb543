/** The destination pino writes to: a SonicBoom, as pino.destination() makes it. */
export interface LineDestination {
  write(text: string): boolean;
  flushSync(): void;
}

/**
 * Gathers log lines in memory and hands them to `destination` together, once at least
 * `chars_min` characters are gathered or `flush_interval_ms` has passed, and on flushSync().
 *
 * SonicBoom can gather lines itself (its `minLength`), but it then appends each line to one
 * growing string and measures that string's UTF-8 length again on every line: about 5 us of a
 * small request at 4 kB (BENCHMARKS.md). Here a line costs a push onto a list, and the list is
 * joined once per write; SonicBoom still does the writing, with its handling of partial writes
 * and EAGAIN.
 */
export class LineGatherer {
  readonly #destination: LineDestination;
  readonly #chars_min: number;
  #lines: string[] = [];
  #chars = 0;

  constructor(destination: LineDestination, options: { readonly chars_min: number; readonly flush_interval_ms: number }) {
    if (!(options.chars_min > 0 && options.flush_interval_ms > 0)) throw new Error('LineGatherer: chars_min and flush_interval_ms must be positive');
    this.#destination = destination;
    this.#chars_min = options.chars_min;
    // unref: a timer that only writes logs must not keep the process alive.
    setInterval(() => this.#handOver(), options.flush_interval_ms).unref();
  }

  write(line: string): boolean {
    this.#lines.push(line);
    this.#chars += line.length;
    if (this.#chars >= this.#chars_min) this.#handOver();
    return true;
  }

  /** Writes out everything gathered before returning: at exit, and after a fatal error. */
  flushSync(): void {
    this.#handOver();
    this.#destination.flushSync();
  }

  #handOver(): void {
    if (this.#lines.length === 0) return;
    const text = this.#lines.join('');
    this.#lines = [];
    this.#chars = 0;
    this.#destination.write(text);
  }
}

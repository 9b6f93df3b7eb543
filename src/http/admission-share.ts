/**
 * The share of new requests a loaded process admits, the rest being shed. It moves once a sample
 * of the process: halved while the event loop is over its limits, held while it is over one of
 * them, doubled back while it is under both, and zero while the heap is over its limit.
 *
 * Why a share, and not all or nothing: a shed request still costs Node's parse of it and the write
 * of its answer. Measured at three times capacity (BENCHMARKS.md, Overload), refusing everything
 * while the event-loop delay was over its limit kept the loop busy with refusals alone, so the
 * delay stayed high and nothing was served for seconds; then everything was admitted again at once.
 * Halving finds the share the loop can carry beside the refusals within a few samples; holding it
 * while the loop is still busy keeps it from overshooting into a new backlog; and doubling gives a
 * process whose load has dropped all of its capacity back within a second.
 *
 * Admission is deterministic: with share p, exactly one request in 1/p is admitted, spread evenly,
 * so a share is what clients see over any short stretch, and tests can count it.
 */

/** The least share admitted while the loop is over its limits: a client that retries gets through. */
export const ADMITTED_SHARE_MIN = 1 / 64;
/** From any share to 1. */
const SHARE_DOUBLINGS_MAX = 7;

/**
 * What a sample found: the heap over its limit; the loop over its limits; the loop between them
 * (over one limit, not the other), where the share holds; or no limit reached.
 */
export type Pressure = 'heap' | 'loop' | 'loop-near' | 'none';

export class AdmissionShare {
  private share = 1;
  /** Admissions owed by the share and not yet taken, in [0, 1). */
  private owed = 0;

  /** The share admitted now, in [0, 1]. */
  get current(): number {
    return this.share;
  }

  /**
   * Moves the share after a sample of the process, taken `intervals` sample intervals after the
   * last one: samples are taken as requests come, and a share doubles for each interval without
   * any, since an idle process is under every limit.
   */
  sampled(pressure: Pressure, intervals = 1): void {
    if (pressure === 'heap') this.share = 0;
    else if (pressure === 'loop') this.share = Math.max(ADMITTED_SHARE_MIN, this.share / 2);
    else if (pressure === 'loop-near') this.share = Math.max(ADMITTED_SHARE_MIN, this.share);
    else this.share = Math.min(1, Math.max(ADMITTED_SHARE_MIN, this.share) * 2 ** Math.min(SHARE_DOUBLINGS_MAX, Math.max(1, intervals)));
    if (this.share === 1) this.owed = 0;
  }

  /** Whether the next request is admitted. */
  admits(): boolean {
    if (this.share === 1) return true;
    this.owed += this.share;
    if (this.owed < 1) return false;
    this.owed -= 1;
    return true;
  }
}

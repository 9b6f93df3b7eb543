/** AdmissionShare: how the share admitted moves with the samples, and that exactly that share is admitted. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ADMITTED_SHARE_MIN, AdmissionShare, type Pressure } from '../../src/http/admission-share.js';

const PRESSURES: readonly Pressure[] = ['heap', 'loop', 'loop-near', 'none'];

function shareAfter(samples: readonly Pressure[]): AdmissionShare {
  const admission = new AdmissionShare();
  for (const pressure of samples) admission.sampled(pressure);
  return admission;
}

function admittedOf(admission: AdmissionShare, requests: number): number {
  let admitted = 0;
  for (let index = 0; index < requests; index += 1) if (admission.admits()) admitted += 1;
  return admitted;
}

describe('AdmissionShare', () => {
  it('admits every request until a sample finds pressure', () => {
    const admission = shareAfter(['none', 'loop-near', 'none']);
    expect(admission.current).toBe(1);
    expect(admittedOf(admission, 1000)).toBe(1000);
  });

  it('halves the share for each sample over the loop limits, down to ADMITTED_SHARE_MIN', () => {
    expect(shareAfter(['loop']).current).toBe(1 / 2);
    expect(shareAfter(['loop', 'loop', 'loop']).current).toBe(1 / 8);
    expect(shareAfter(Array<Pressure>(20).fill('loop')).current).toBe(ADMITTED_SHARE_MIN);
  });

  it('holds the share while the loop is over one limit only', () => {
    expect(shareAfter(['loop', 'loop', 'loop-near', 'loop-near']).current).toBe(1 / 4);
  });

  it('sheds every request while the heap is over its limit, then admits ADMITTED_SHARE_MIN doubled', () => {
    const admission = shareAfter(['heap']);
    expect(admission.current).toBe(0);
    expect(admittedOf(admission, 1000)).toBe(0);
    admission.sampled('none');
    expect(admission.current).toBe(2 * ADMITTED_SHARE_MIN);
  });

  it('doubles the share for each interval without pressure, so an idle process is back to 1', () => {
    const admission = shareAfter(Array<Pressure>(10).fill('loop'));
    admission.sampled('none');
    expect(admission.current).toBe(2 * ADMITTED_SHARE_MIN);
    admission.sampled('none', 3);
    expect(admission.current).toBe(16 * ADMITTED_SHARE_MIN);
    admission.sampled('none', 1000);
    expect(admission.current).toBe(1);
  });

  it('admits exactly one request in 1/share, evenly: the first 1/share - 1 are shed', () => {
    const admission = shareAfter(['loop', 'loop']);
    const decisions = Array.from({ length: 8 }, () => admission.admits());
    expect(decisions).toStrictEqual([false, false, false, true, false, false, false, true]);
  });

  it('keeps the share 0 or a power of two from ADMITTED_SHARE_MIN to 1, and admits that share of any run of requests', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ pressure: fc.constantFrom(...PRESSURES), intervals: fc.integer({ min: 1, max: 10 }) }), { maxLength: 40 }),
        fc.integer({ min: 0, max: 5000 }),
        (samples, requests) => {
          const admission = new AdmissionShare();
          for (const { pressure, intervals } of samples) admission.sampled(pressure, intervals);
          const share = admission.current;
          expect(share === 0 || (share >= ADMITTED_SHARE_MIN && share <= 1 && Number.isInteger(Math.log2(share)))).toBe(true);
          // The admissions owed carry over from earlier requests: at most one either way.
          const admitted = admittedOf(admission, requests);
          expect(Math.abs(admitted - share * requests)).toBeLessThanOrEqual(1);
        },
      ),
    );
  });
});

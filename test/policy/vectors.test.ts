/**
 * Parity with the reference model on every vector of ../shared/vectors/. Skipped, visibly, where
 * the folder is absent.
 */
import { describe, expect, it } from 'vitest';
import {
  computeContribution,
  computeRealtimeDelta,
  PolicyInputError,
  quoteConsumption,
  settleConsumption,
  type Contribution,
  type ContributionInput,
  type QuoteInput,
  type RealtimeDeltaInput,
  type SettleInput,
} from '../../src/policy/index.js';
import { creditUnits, sumCreditUnits } from '../support/credits.js';
import { loadVectors, mismatches, VECTORS_PRESENT, type ReferenceVector } from '../support/vectors.js';

function evaluate(vector: ReferenceVector): unknown {
  switch (vector.kind) {
    case 'quote':
      return quoteConsumption(vector.input as unknown as QuoteInput);
    case 'settle':
      return settleConsumption(vector.input as unknown as SettleInput);
    case 'contribution':
      return computeContribution(vector.input as unknown as ContributionInput);
    case 'realtime_delta':
      return computeRealtimeDelta(vector.input as unknown as RealtimeDeltaInput);
  }
}

/** Credits of a split always sum exactly to its budget, whatever the reference's float sums did. */
function expectConserved(contribution: Contribution): void {
  expect(sumCreditUnits(contribution.assignments.map((item) => item.credits))).toBe(creditUnits(contribution.job_credit_budget));
}

function expectConservedResult(vector: ReferenceVector, result: unknown): void {
  if (vector.kind === 'contribution') expectConserved(result as Contribution);
  if (vector.kind === 'realtime_delta' && result !== null) {
    const delta = result as { contribution: Contribution; consumption: { total_credits: string } };
    expect(delta.contribution.job_credit_budget).toBe(delta.consumption.total_credits);
    expectConserved(delta.contribution);
  }
}

describe.skipIf(!VECTORS_PRESENT)('reference vectors', () => {
  const vectors = loadVectors();
  const named = vectors.filter((vector) => !/^s\d+-\d+$/.test(vector.id));
  const cases = (kind: 'valid' | 'edge') =>
    vectors.filter((vector) => vector.class === kind).map((vector) => [`${vector.id} (${vector.kind})`, vector] as const);

  it('loads all 610 vectors: 10 named and 600 seeded, with unique ids', () => {
    expect(vectors).toHaveLength(610);
    expect(named).toHaveLength(10);
    expect(vectors.length - named.length).toBe(600);
    expect(new Set(vectors.map((vector) => vector.id)).size).toBe(610);
  });

  it.for(cases('valid'))('valid %s matches the reference', ([, vector]) => {
    const result = evaluate(vector);
    if (vector.expected === null) {
      expect(vector.kind).toBe('realtime_delta');
      expect(result).toBeNull();
      return;
    }
    expect(mismatches(vector.expected, result)).toEqual([]);
    expectConservedResult(vector, result);
  });

  it.for(cases('edge'))('edge %s is rejected as input or matches the reference', ([, vector]) => {
    let result: unknown;
    try {
      result = evaluate(vector);
    } catch (error) {
      // A rejection must be the policy's own, naming at least one rule; anything else is a defect.
      expect(error).toBeInstanceOf(PolicyInputError);
      expect((error as PolicyInputError).violations.length).toBeGreaterThan(0);
      return;
    }
    if (vector.expected === null) expect(result).toBeNull();
    else expect(mismatches(vector.expected, result)).toEqual([]);
    expectConservedResult(vector, result);
  });
});

/**
 * A second, deliberately simple implementation of the money, checked against the policy to the
 * last credit unit on 100000 seeded random jobs (quote, settle, realtime delta, contribution).
 *
 * The money here is integer units in BigInt only, with no fast path:
 *   C(n) = round_half_even(n * max(bytes, scale_bytes) * 10^scale / scale_bytes)
 * and the largest-remainder split of B units, each float weight read exactly as m * 2^e,
 * floor(B * w_i / sum(w)) and its remainder exact, leftover units to the largest remainders,
 * ties to the earlier worker.
 *
 * The weights are float64 by the model's definition, so they are recomputed here in the same
 * operations and order as src/policy/contribution.ts (the correctly rounded sums done exactly in
 * BigInt and rounded once), and must equal, bit for bit, the factors the policy reports.
 * Plain loops and a seeded generator rather than fast-check: 100000 cases must fit in seconds.
 * INDEPENDENT_SEED picks another seed; a failure names the seed and the case.
 */
import { describe, expect, it } from 'vitest';
import {
  computeContribution,
  computeRealtimeDelta,
  DEFAULT_POLICY_PARAMETERS,
  quoteConsumption,
  settleConsumption,
  UINT32_MAX,
  type Contribution,
  type WorkerAssignment,
} from '../../src/policy/index.js';

const SEED = Number(process.env.INDEPENDENT_SEED ?? 0x5eed_d1e);
const CASES_PER_KIND = 25_000;
const SCALE = 9n;
const UNITS_PER_CREDIT = 10n ** SCALE;
const P = DEFAULT_POLICY_PARAMETERS;
const SCALE_BYTES = BigInt(P.model_size_scale_gib * 2 ** 30);
const SAFE_MAX = Number.MAX_SAFE_INTEGER;

// ---- the independent money -------------------------------------------------------------------

function roundHalfEven(numerator: bigint, denominator: bigint): bigint {
  const floor = numerator / denominator;
  const rest = numerator - floor * denominator;
  if (2n * rest > denominator) return floor + 1n;
  if (2n * rest < denominator) return floor;
  return floor % 2n === 0n ? floor : floor + 1n;
}

function creditsOf(tokens: number, bytes: number): bigint {
  const sized = BigInt(bytes) > SCALE_BYTES ? BigInt(bytes) : SCALE_BYTES;
  return roundHalfEven(BigInt(tokens) * sized * UNITS_PER_CREDIT, SCALE_BYTES);
}

function format(units: bigint): string {
  const digits = units.toString().padStart(Number(SCALE) + 1, '0');
  return `${digits.slice(0, -Number(SCALE))}.${digits.slice(-Number(SCALE))}`;
}

/** A finite double exactly as mantissa * 2^exponent. */
function exactly(value: number): { m: bigint; e: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value);
  const bits = view.getBigUint64(0);
  const sign = bits >> 63n === 1n ? -1n : 1n;
  const biased = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  if (biased === 0) return { m: sign * fraction, e: -1074 };
  return { m: sign * (fraction | (1n << 52n)), e: biased - 1075 };
}

/** The doubles as integers over a common power of two: their exact ratios. */
function commonScale(values: readonly number[]): bigint[] {
  const parts = values.map(exactly);
  const low = Math.min(...parts.map((part) => part.e));
  return parts.map((part) => part.m << BigInt(part.e - low));
}

/** The exact sum of doubles, rounded once to the nearest double (ties to even). */
function roundedSum(values: readonly number[]): number {
  const parts = values.map(exactly);
  const low = Math.min(...parts.map((part) => part.e));
  const total = parts.reduce((sum, part) => sum + (part.m << BigInt(part.e - low)), 0n);
  // Number(bigint) rounds to nearest, ties to even; scaling by a power of two is then exact.
  return Number(total) * 2 ** low;
}

function largestRemainder(budget: bigint, weights: readonly number[]): bigint[] {
  const scaled = commonScale(weights);
  const total = scaled.reduce((sum, weight) => sum + weight, 0n);
  const parts = scaled.map((weight) => (budget * weight) / total);
  const remainders = scaled.map((weight, index) => budget * weight - parts[index]! * total);
  let leftover = budget - parts.reduce((sum, part) => sum + part, 0n);
  const order = parts.map((_, index) => index);
  order.sort((a, b) => (remainders[a]! === remainders[b]! ? a - b : remainders[a]! > remainders[b]! ? -1 : 1));
  for (const index of order) {
    if (leftover === 0n) break;
    parts[index]! += 1n;
    leftover -= 1n;
  }
  return parts;
}

interface Factors {
  compute_share: number;
  throughput_multiplier: number;
  resource_pressure_multiplier: number;
  normalized_contribution_share: number;
  weights: number[];
}

/** The weights in float64, in contribution.ts's operations and order. */
function factorsOf(bytes: number, columns: number, assignments: readonly WorkerAssignment[]): Factors[] {
  const rows = assignments.map((a) => {
    const fraction = (a.shard_column_end - a.shard_column_start) / columns;
    const units = a.assigned_capacity_units * fraction;
    const rate = units / Math.max(a.execution_time_ms / 1000, P.min_execution_time_secs);
    const pressure = Math.min(Math.max((bytes * fraction) / a.available_memory_bytes, 0), 1);
    return { units, rate, pressure };
  });
  const unitsTotal = roundedSum(rows.map((row) => row.units));
  const rates = rows.map((row) => row.rate).sort((x, y) => x - y);
  const mid = rates.length >> 1;
  const median = rates.length % 2 === 1 ? rates[mid]! : (rates[mid - 1]! + rates[mid]!) / 2;
  const reference = Math.max(median, P.reference_service_rate_min);
  const factors = rows.map((row) => ({
    compute_share: row.units / unitsTotal,
    throughput_multiplier: Math.min(Math.max(row.rate / reference, P.throughput_multiplier_min), P.throughput_multiplier_max),
    resource_pressure_multiplier: P.resource_multiplier_base + P.resource_multiplier_span * row.pressure,
  }));
  const weights = factors.map((f) => f.compute_share * f.throughput_multiplier * f.resource_pressure_multiplier);
  const weightTotal = roundedSum(weights);
  return factors.map((f, index) => ({ ...f, normalized_contribution_share: weights[index]! / weightTotal, weights }));
}

// ---- random valid jobs -------------------------------------------------------------------------

/** mulberry32: small, seeded, good enough to spread cases. */
function generator(seed: number) {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  /** An integer in [min, max], max up to 2^53 - 1. */
  const int = (min: number, max: number): number => {
    const span = max - min + 1;
    if (span <= 2 ** 32) return min + Math.floor(next() * span);
    return min + Math.floor((next() * 2 ** 21 + next()) * (span / 2 ** 21)) % span;
  };
  const pick = <T>(items: readonly T[]): T => items[int(0, items.length - 1)]!;
  return { next, int, pick };
}
type Random = ReturnType<typeof generator>;

const GIB = 2 ** 30;

function tokens(r: Random, max = UINT32_MAX): number {
  return r.pick([() => r.int(0, Math.min(4, max)), () => r.int(0, Math.min(1000, max)), () => r.int(0, max), () => max])();
}

function modelBytes(r: Random): number {
  return r.pick([() => r.int(0, 32 * GIB), () => r.int(32 * GIB, 2048 * GIB), () => r.int(0, SAFE_MAX), () => 32 * GIB + r.int(-1, 1)])();
}

function job(r: Random): { total_model_bytes: number; total_columns: number; assignments: WorkerAssignment[] } {
  const total_columns = r.pick([() => r.int(1, 8), () => r.int(1, 65536), () => r.int(1, UINT32_MAX)])();
  const count = r.int(1, 4);
  const one = (index: number): WorkerAssignment => {
    const start = r.int(0, total_columns - 1);
    const whole = r.next() < 0.3;
    return {
      worker_id: `w${index}`,
      execution_time_ms: r.pick([() => r.int(0, 3), () => r.int(0, 10_000), () => r.int(0, SAFE_MAX)])(),
      assigned_capacity_units: r.pick([() => r.int(1, 16), () => r.int(1, UINT32_MAX), () => UINT32_MAX])(),
      shard_column_start: whole ? 0 : start,
      shard_column_end: whole ? total_columns : r.int(start + 1, total_columns),
      available_memory_bytes: r.pick([() => r.int(1, 64 * GIB), () => r.int(1, SAFE_MAX)])(),
    };
  };
  const assignments: WorkerAssignment[] = [];
  for (let index = 0; index < count; index += 1) {
    // Copies of an earlier worker tie exactly: the ties must go to the earlier one.
    const copy = index > 0 && r.next() < 0.3 ? assignments[r.int(0, index - 1)]! : undefined;
    assignments.push(copy === undefined ? one(index) : { ...copy, worker_id: `w${index}` });
  }
  return { total_model_bytes: modelBytes(r), total_columns, assignments };
}

// ---- the comparison ----------------------------------------------------------------------------

function expectSplit(
  what: string,
  result: Contribution,
  budget: bigint,
  shape: { total_model_bytes: number; total_columns: number; assignments: readonly WorkerAssignment[] },
): bigint[] {
  const factors = factorsOf(shape.total_model_bytes, shape.total_columns, shape.assignments);
  const credits = largestRemainder(budget, factors[0]!.weights);
  const got = result.assignments.map((a) => ({
    credits: a.credits,
    compute_share: a.compute_share,
    throughput_multiplier: a.throughput_multiplier,
    resource_pressure_multiplier: a.resource_pressure_multiplier,
    normalized_contribution_share: a.normalized_contribution_share,
  }));
  const want = factors.map((f, index) => ({
    credits: format(credits[index]!),
    compute_share: f.compute_share,
    throughput_multiplier: f.throughput_multiplier,
    resource_pressure_multiplier: f.resource_pressure_multiplier,
    normalized_contribution_share: f.normalized_contribution_share,
  }));
  if (result.job_credit_budget !== format(budget) || JSON.stringify(got) !== JSON.stringify(want)) {
    // toEqual on the whole case only when it differs: 100000 deep comparisons cost seconds.
    expect({ what, budget: result.job_credit_budget, got }).toEqual({ what, budget: format(budget), got: want });
  }
  return credits;
}

/** Compares as JSON, and only on a difference pays for expect's deep comparison and its message. */
function same(label: string, got: unknown, want: unknown): void {
  if (JSON.stringify(got) !== JSON.stringify(want)) expect({ label, got }).toEqual({ label, got: want });
}

function expectPayouts(what: string, postings: readonly { kind: string; credit_account: string; amount: string }[] | undefined, credits: bigint[]) {
  const payouts = (postings ?? []).filter((posting) => posting.kind === 'payout').map((p) => [p.credit_account, p.amount]);
  const want = credits.flatMap((units, index) => (units === 0n ? [] : [[`worker:w${index}`, format(units)]]));
  if (JSON.stringify(payouts) !== JSON.stringify(want)) expect({ what, payouts }).toEqual({ what, payouts: want });
}

function affordable(prompt: number, budget: bigint, bytes: number): number {
  const room = budget - creditsOf(prompt, bytes);
  if (room < 0n) return 0;
  let low = 0;
  let high = UINT32_MAX - prompt;
  if (creditsOf(high, bytes) <= room) return high;
  // creditsOf(low) <= room < creditsOf(high)
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2);
    if (creditsOf(mid, bytes) <= room) low = mid;
    else high = mid;
  }
  return low;
}

function runKind(kind: string, body: (r: Random, label: string) => void): number {
  const r = generator(SEED ^ [...kind].reduce((h, c) => Math.imul(h, 31) + c.charCodeAt(0), 7));
  for (let index = 0; index < CASES_PER_KIND; index += 1) {
    const label = `${kind} case ${index} (INDEPENDENT_SEED=${SEED})`;
    try {
      body(r, label);
    } catch (error) {
      (error as Error).message = `${label}: ${(error as Error).message}`;
      throw error;
    }
  }
  return CASES_PER_KIND;
}

describe('the policy agrees to the last unit with an independent BigInt implementation of the money', () => {
  it('quote: prompt, completion, total and the affordable completion count', () => {
    const count = runKind('quote', (r, label) => {
      const prompt = tokens(r);
      const completion = tokens(r, UINT32_MAX - prompt);
      const bytes = modelBytes(r);
      const budgetUnits = r.next() < 0.5 ? undefined : r.pick([() => BigInt(r.int(0, SAFE_MAX)), () => creditsOf(prompt + r.int(0, 100), bytes)])();
      const quote = quoteConsumption({
        prompt_tokens: prompt,
        requested_completion_tokens: completion,
        total_model_bytes: bytes,
        ...(budgetUnits === undefined ? {} : { budget_credits: format(budgetUnits) }),
      });
      const p = creditsOf(prompt, bytes);
      const c = creditsOf(completion, bytes);
      const got = [quote.prompt_credits, quote.completion_credits, quote.total_credits, quote.max_affordable_completion_tokens];
      const want = [format(p), format(c), format(p + c), budgetUnits === undefined ? undefined : affordable(prompt, budgetUnits, bytes)];
      if (JSON.stringify(got) !== JSON.stringify(want)) expect({ label, got }).toEqual({ label, got: want });
    });
    expect(count).toBe(CASES_PER_KIND);
  });

  it('contribution: the budget C(prompt) + C(completion) and every worker credit', () => {
    const count = runKind('contribution', (r, label) => {
      const shape = job(r);
      const prompt = tokens(r);
      const completion = prompt === 0 ? Math.max(1, tokens(r)) : tokens(r, UINT32_MAX - prompt);
      const result = computeContribution({ ...shape, prompt_tokens: prompt, completion_tokens: completion });
      expectSplit(label, result, creditsOf(prompt, shape.total_model_bytes) + creditsOf(completion, shape.total_model_bytes), shape);
    });
    expect(count).toBe(CASES_PER_KIND);
  });

  it('realtime delta: the burn C(frontier) - C(accounted) (+ prompt), its split, postings and reservation', () => {
    let accounted = 0;
    const count = runKind('realtime', (r, label) => {
      const shape = job(r);
      const prompt = tokens(r);
      const frontier = tokens(r, UINT32_MAX - prompt);
      const before = r.pick([() => frontier, () => r.int(0, frontier), () => Math.max(0, frontier - r.int(0, 3))])();
      const flag = r.next() < 0.5;
      const reserved = r.next() < 0.5 ? undefined : r.int(frontier, UINT32_MAX - prompt);
      const jobId = r.next() < 0.5 ? undefined : 'job-1';
      const delta = computeRealtimeDelta({
        ...shape,
        prompt_tokens: prompt,
        frontier_completion_tokens: frontier,
        accounted_completion_tokens: before,
        prompt_credits_accounted: flag,
        ...(reserved === undefined ? {} : { reserved_completion_tokens: reserved }),
        ...(jobId === undefined ? {} : { job_id: jobId }),
      });
      const bytes = shape.total_model_bytes;
      const promptUnits = flag ? 0n : creditsOf(prompt, bytes);
      const completionUnits = creditsOf(frontier, bytes) - creditsOf(before, bytes);
      if ((flag || prompt === 0) && frontier === before) {
        same(label, delta, null);
        return;
      }
      if (delta === null) return expect.fail(`${label}: no delta for new tokens`);
      accounted += 1;
      const consumption = [delta.consumption.prompt_credits, delta.consumption.completion_credits, delta.consumption.total_credits];
      const wantConsumption = [format(promptUnits), format(completionUnits), format(promptUnits + completionUnits)];
      if (JSON.stringify(consumption) !== JSON.stringify(wantConsumption)) expect({ label, consumption }).toEqual({ label, consumption: wantConsumption });
      const credits = expectSplit(label, delta.contribution, promptUnits + completionUnits, shape);
      if (reserved !== undefined) {
        const promptAll = creditsOf(prompt, bytes);
        const reservedUnits = promptAll + creditsOf(reserved, bytes);
        const burned = promptAll + creditsOf(frontier, bytes);
        same(label, delta.reservation, {
          reserved_credits: format(reservedUnits),
          burned_credits: format(burned),
          remaining_credits: format(reservedUnits - burned),
        });
      } else {
        same(label, delta.reservation, undefined);
      }
      if (jobId !== undefined) expectPayouts(label, delta.postings, credits);
    });
    expect(count).toBe(CASES_PER_KIND);
    // Most cases have something to burn: the split above ran on them.
    expect(accounted).toBeGreaterThan(CASES_PER_KIND / 2);
  });

  it('settle: total, reconciliation, the final delta, its split and the postings', () => {
    let split = 0;
    const count = runKind('settle', (r, label) => {
      const shape = job(r);
      const prompt = tokens(r);
      const actual = tokens(r, UINT32_MAX - prompt);
      const reserving = r.next() < 0.7;
      const reserved = reserving ? r.pick([() => actual, () => r.int(actual, UINT32_MAX - prompt)])() : undefined;
      const streamed = reserving && r.next() < 0.8;
      const before = streamed ? r.pick([() => actual, () => r.int(0, actual), () => Math.max(0, actual - r.int(0, 3))])() : undefined;
      const flag = streamed ? r.next() < 0.7 : undefined;
      const jobId = r.next() < 0.5 ? undefined : 'job-1';
      const settlement = settleConsumption({
        ...shape,
        prompt_tokens: prompt,
        actual_completion_tokens: actual,
        ...(reserved === undefined ? {} : { reserved_completion_tokens: reserved }),
        ...(before === undefined ? {} : { accounted_completion_tokens: before }),
        ...(flag === undefined ? {} : { prompt_credits_accounted: flag }),
        ...(jobId === undefined ? {} : { job_id: jobId }),
      });
      const bytes = shape.total_model_bytes;
      const p = creditsOf(prompt, bytes);
      const c = creditsOf(actual, bytes);
      const total = p + c;
      const streamedUnits = (flag === true ? p : 0n) + creditsOf(before ?? 0, bytes);
      const finalDelta = total - streamedUnits;
      const head = [settlement.prompt_credits, settlement.completion_credits, settlement.total_credits];
      if (JSON.stringify(head) !== JSON.stringify([format(p), format(c), format(total)])) expect({ label, head }).toEqual({ label, head: [format(p), format(c), format(total)] });
      let release: bigint | undefined;
      if (reserved !== undefined) {
        release = p + creditsOf(reserved, bytes) - total;
        same(label, settlement.reconciliation, {
          reserved_credits: format(total + release),
          streamed_credits: format(streamedUnits),
          final_delta_credits: format(finalDelta),
          release_credits: format(release),
        });
      }
      let credits: bigint[] = [];
      if (finalDelta === 0n) {
        same(label, settlement.contribution, undefined);
      } else {
        if (settlement.contribution === undefined) return expect.fail(`${label}: no split of a final delta of ${finalDelta} units`);
        credits = expectSplit(label, settlement.contribution, finalDelta, shape);
        split += 1;
      }
      if (jobId !== undefined) {
        expectPayouts(label, settlement.postings, credits);
        const releases = (settlement.postings ?? []).filter((posting) => posting.kind === 'release').map((posting) => posting.amount);
        same(label, releases, release !== undefined && release > 0n ? [format(release)] : []);
      }
    });
    expect(count).toBe(CASES_PER_KIND);
    expect(split).toBeGreaterThan(CASES_PER_KIND / 2);
  });
});

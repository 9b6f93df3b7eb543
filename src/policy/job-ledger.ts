/**
 * Ledger-ready postings for a job's burns: double-entry transfers from the job's reservation to
 * each worker paid, and at settlement the release of what was reserved and not used. Every id is
 * a digest of what decides the transfer, never of a clock or a random source, so a ledger that
 * keys postings by id absorbs any retry of the same request.
 */
import { createHash } from 'node:crypto';
import { isZeroAmount } from './credit-units.js';
import type { CreditAmount, Posting, WorkerCredit } from './types.js';

/** Ids are 128-bit: hex of the first 16 bytes of a SHA-256, the size of a UUID or a TigerBeetle transfer id. */
const ID_HEX_DIGITS = 32;

function digest(parts: readonly (string | number | boolean)[]): string {
  // JSON of a list keeps the parts apart whatever characters they hold.
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, ID_HEX_DIGITS);
}

/** What a delta of a job covers: which tokens, under which policy. */
export interface DeltaCounters {
  readonly job_id: string;
  readonly policy_version: string;
  readonly prompt_credits_accounted: boolean;
  readonly accounted_completion_tokens: number;
  readonly frontier_completion_tokens: number;
}

/**
 * The id of the delta that moves a job from its accounted counters to its frontier. A settlement's
 * final delta gets the id a realtime delta over the same counters would get, so the same tokens
 * cannot be paid twice through the two endpoints.
 */
export function deltaIdOf(counters: DeltaCounters): string {
  return digest([
    'divy-delta',
    counters.job_id,
    counters.policy_version,
    counters.prompt_credits_accounted,
    counters.accounted_completion_tokens,
    counters.frontier_completion_tokens,
  ]);
}

export function reservationAccount(job_id: string): string {
  return `job:${job_id}:reservation`;
}

export function submitterAccount(job_id: string): string {
  return `job:${job_id}:submitter`;
}

export function workerAccount(worker_id: string): string {
  return `worker:${worker_id}`;
}

/** One transfer from the job's reservation to each worker with a non-zero payout, in input order. */
export function payoutPostings(job_id: string, delta_id: string, workers: readonly WorkerCredit[]): Posting[] {
  const postings: Posting[] = [];
  workers.forEach((worker, index) => {
    if (isZeroAmount(worker.credits)) return;
    postings.push({
      id: digest(['divy-payout', delta_id, index, worker.worker_id]),
      kind: 'payout',
      debit_account: reservationAccount(job_id),
      credit_account: workerAccount(worker.worker_id),
      amount: worker.credits,
    });
  });
  return postings;
}

/**
 * The release of a job's unused reservation to its submitter. Its id depends on the job alone: a
 * job is released once, whatever a repeated or corrected settlement says.
 */
export function releasePosting(job_id: string, amount: CreditAmount): Posting {
  return {
    id: digest(['divy-release', job_id]),
    kind: 'release',
    debit_account: reservationAccount(job_id),
    credit_account: submitterAccount(job_id),
    amount,
  };
}

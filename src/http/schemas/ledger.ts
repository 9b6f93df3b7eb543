/** Schemas of what wallets and ledgers read: reservations, reconciliations and postings. */
import { z } from 'zod';
import type { Posting, Reconciliation, Reservation } from '../../policy/index.js';
import type { SchemaContext } from './context.js';
import { described } from './docs.js';
import { creditField } from './fields.js';

/** What the worked example answers, so the documented examples are the service's own. */
export interface LedgerExamples {
  readonly reservation: Reservation;
  readonly reconciliation: Reconciliation;
  readonly delta_id: string;
  readonly posting: Posting;
}

export function ledgerSchemas({ docs, settings }: SchemaContext, examples: LedgerExamples) {
  const scale = settings.credit_scale;
  const credits = (description: string, example: string) => creditField(docs, scale, description, example);
  const { reservation, reconciliation, posting } = examples;
  return {
    reservation: described(
      docs,
      z.object({
        reserved_credits: credits('The quote of the reservation: prompt + reserved_completion_tokens', reservation.reserved_credits),
        burned_credits: credits('Everything burned up to and including this delta: the prompt and every completion token up to the frontier', reservation.burned_credits),
        remaining_credits: credits('reserved_credits - burned_credits, exactly', reservation.remaining_credits),
      }),
      { id: 'Reservation', description: 'The reservation as the stream burns it: burned + remaining = reserved, to the last unit.' },
    ),
    reconciliation: described(
      docs,
      z.object({
        reserved_credits: credits('The quote of the reservation: prompt + reserved_completion_tokens', reconciliation.reserved_credits),
        streamed_credits: credits('What the stream already burned: the prompt if prompt_credits_accounted, and accounted_completion_tokens', reconciliation.streamed_credits),
        final_delta_credits: credits('What the settlement burns: total_credits - streamed_credits, exactly', reconciliation.final_delta_credits),
        release_credits: credits('What goes back to the submitter: reserved_credits - total_credits, exactly', reconciliation.release_credits),
      }),
      {
        id: 'Reconciliation',
        description: 'The settlement against its reservation: streamed + final_delta = total_credits and total_credits + release = reserved, exactly.',
      },
    ),
    deltaId: described(docs, z.string(), {
      description: 'A digest of the job id, policy version, prompt flag and the accounted and frontier counts: the same delta always has the same id.',
      example: examples.delta_id,
    }),
    postings: described(
      docs,
      z.array(
        described(
          docs,
          z.object({
            id: described(docs, z.string(), {
              description: 'Deterministic 128-bit id (32 hex digits): a ledger that keys postings by it absorbs retries.',
              example: posting.id,
            }),
            kind: described(docs, z.enum(['payout', 'release']), {
              description:
                'payout: part of a delta\'s burn, paid to a worker; apply a delta\'s payouts together, once per delta_id, so that one delta is never paid with parts of two answers. release: the unused reservation, once per job.',
              example: posting.kind,
            }),
            debit_account: described(docs, z.string(), {
              description: 'The account debited: the job\'s reservation, job:<job_id>:reservation.',
              example: posting.debit_account,
            }),
            credit_account: described(docs, z.string(), {
              description: 'The account credited: worker:<worker_id> for a payout, job:<job_id>:submitter for the release.',
              example: posting.credit_account,
            }),
            amount: credits('The amount moved, more than zero', posting.amount),
          }),
          { id: 'Posting', description: 'A double-entry transfer.' },
        ),
      ),
      {
        description: 'Transfers from the job\'s reservation to each worker with a non-zero payout (and, at settlement, the release back to the submitter); the payouts sum exactly to the burn.',
      },
    ),
  };
}

export type LedgerSchemas = ReturnType<typeof ledgerSchemas>;

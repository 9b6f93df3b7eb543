/** One worker's share of a job, as the coordinator assigned and measured it. */
export interface WorkerAssignment {
  readonly worker_id: string;
  readonly execution_time_ms: number;
  readonly assigned_capacity_units: number;
  readonly shard_column_start: number;
  readonly shard_column_end: number;
  readonly available_memory_bytes: number;
}

export interface QuoteInput {
  readonly prompt_tokens: number;
  readonly requested_completion_tokens: number;
  readonly total_model_bytes: number;
  /** What the submitter can spend (credits): the quote then says how many tokens it affords. */
  readonly budget_credits?: CreditAmount | undefined;
}

export interface SettleInput {
  readonly prompt_tokens: number;
  readonly actual_completion_tokens: number;
  readonly total_model_bytes: number;
  /** What the reservation was quoted for: with it, the settlement reconciles against it. */
  readonly reserved_completion_tokens?: number | undefined;
  /** What the stream already burned: completion tokens, and whether the prompt. */
  readonly accounted_completion_tokens?: number | undefined;
  readonly prompt_credits_accounted?: boolean | undefined;
  /** The workers the final delta is split among. */
  readonly total_columns?: number | undefined;
  readonly assignments?: readonly WorkerAssignment[] | undefined;
  /** Names the job in ledger postings. */
  readonly job_id?: string | undefined;
}

export interface ContributionInput {
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  readonly total_model_bytes: number;
  readonly total_columns: number;
  readonly assignments: readonly WorkerAssignment[];
}

export interface RealtimeDeltaInput {
  readonly prompt_tokens: number;
  readonly frontier_completion_tokens: number;
  readonly accounted_completion_tokens: number;
  readonly prompt_credits_accounted: boolean;
  readonly total_model_bytes: number;
  readonly total_columns: number;
  readonly assignments: readonly WorkerAssignment[];
  /** What the reservation was quoted for: with it, the burn is bounded by it and reported against it. */
  readonly reserved_completion_tokens?: number | undefined;
  /** Names the job in ledger postings. */
  readonly job_id?: string | undefined;
}

/** Credits are decimal strings with exactly `credit_scale` fraction digits. */
export type CreditAmount = string;

export interface Consumption {
  readonly policy_version: string;
  readonly model_size_factor: number;
  readonly prompt_credits: CreditAmount;
  readonly completion_credits: CreditAmount;
  readonly total_credits: CreditAmount;
}

/** What a quote answers: the consumption, and with a budget how many completion tokens it affords. */
export interface Quote extends Consumption {
  readonly max_affordable_completion_tokens?: number;
}

/** A reservation as the stream burns it: burned + remaining = reserved, to the unit. */
export interface Reservation {
  readonly reserved_credits: CreditAmount;
  readonly burned_credits: CreditAmount;
  readonly remaining_credits: CreditAmount;
}

/** A settlement against its reservation: streamed + final_delta = total, total + release = reserved. */
export interface Reconciliation {
  readonly reserved_credits: CreditAmount;
  readonly streamed_credits: CreditAmount;
  readonly final_delta_credits: CreditAmount;
  readonly release_credits: CreditAmount;
}

/** A double-entry transfer, keyed by a deterministic id so that a ledger absorbs retries. */
export interface Posting {
  readonly id: string;
  /**
   * `payout`: part of a delta's burn, paid to a worker; a ledger applies a delta's payouts
   * together, once per delta_id. `release`: a settlement's unused reservation, once per job.
   */
  readonly kind: 'payout' | 'release';
  readonly debit_account: string;
  readonly credit_account: string;
  readonly amount: CreditAmount;
}

/** What a settlement answers: the consumption, and what the optional fields of its input asked for. */
export interface Settlement extends Consumption {
  readonly reconciliation?: Reconciliation;
  /** The final delta, split among the workers. */
  readonly contribution?: Contribution;
  readonly job_id?: string;
  readonly delta_id?: string;
  readonly postings?: Posting[];
}

export interface WorkerCredit {
  readonly worker_id: string;
  readonly credits: CreditAmount;
  readonly compute_share: number;
  readonly throughput_multiplier: number;
  readonly resource_pressure_multiplier: number;
  readonly normalized_contribution_share: number;
  readonly measured_service_rate: number;
  readonly reference_service_rate: number;
  readonly memory_pressure: number;
}

export interface Contribution {
  readonly policy_version: string;
  readonly job_credit_budget: CreditAmount;
  readonly assignments: WorkerCredit[];
}

export interface RealtimeDelta {
  readonly policy_version: string;
  readonly prompt_tokens_delta: number;
  readonly completion_tokens_delta: number;
  readonly frontier_completion_tokens: number;
  readonly contribution: Contribution;
  readonly consumption: Consumption;
  readonly reservation?: Reservation;
  readonly job_id?: string;
  readonly delta_id?: string;
  readonly postings?: Posting[];
}

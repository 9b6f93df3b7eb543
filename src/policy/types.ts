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
}

export interface SettleInput {
  readonly prompt_tokens: number;
  readonly actual_completion_tokens: number;
  readonly total_model_bytes: number;
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
}

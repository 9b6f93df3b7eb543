/** How the fair floor finds Divy's answer for a body: a few fields that tell the ring's bodies apart. */

/** Divy's answers, keyed by quoteKey, deltaKey and batchKey of their bodies. */
export interface FloorTemplates {
  readonly quote: ReadonlyArray<readonly [string, unknown]>;
  readonly delta: ReadonlyArray<readonly [string, unknown]>;
  readonly batch: ReadonlyArray<readonly [string, unknown]>;
}

export interface QuoteBody {
  readonly prompt_tokens: number;
  readonly requested_completion_tokens: number;
  readonly total_model_bytes: number;
}
export interface DeltaBody {
  readonly assignments: ReadonlyArray<{ readonly execution_time_ms: number; readonly shard_column_start: number; readonly available_memory_bytes: number }>;
}
export interface BatchBody {
  readonly updates: readonly DeltaBody[];
}

export const quoteKey = (body: QuoteBody): string => `${body.prompt_tokens}:${body.requested_completion_tokens}:${body.total_model_bytes}`;
export const deltaKey = (body: DeltaBody): string => {
  const first = body.assignments[0]!;
  return `${body.assignments.length}:${first.execution_time_ms}:${first.shard_column_start}:${first.available_memory_bytes}`;
};

export const batchKey = (body: BatchBody): string => `${body.updates.length}:${deltaKey(body.updates[0]!)}`;

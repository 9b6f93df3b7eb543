/**
 * The default policy as the original model fixes it, written out once for the tests that compare
 * the service's defaults with it (lib.rs: MODEL_SIZE_BUDGET_SCALE_GIB, MIN_EXECUTION_TIME_SECS, the
 * median's .max(f64::EPSILON), MIN_/MAX_THROUGHPUT_MULTIPLIER, RESOURCE_MULTIPLIER_BASE and _SPAN).
 */
export const MODEL_DEFAULT_PARAMETERS = {
  version: 'divy-credit-1',
  model_size_scale_gib: 32,
  min_execution_time_secs: 0.001,
  reference_service_rate_min: 2 ** -52,
  throughput_multiplier_min: 0.5,
  throughput_multiplier_max: 1.5,
  resource_multiplier_base: 0.85,
  resource_multiplier_span: 0.3,
} as const;

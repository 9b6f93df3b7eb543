/**
 * The exact answers of the default app (divy-credit-1, 9 fraction digits) to the README's worked
 * example, job-42: shared by the HTTP tests that check them, so each figure is written once.
 */

/** The factors of the README's two workers: the same in every split of the example job, whatever its budget. */
export const README_WORKER_FACTORS = {
  fast: {
    compute_share: 0.6666666666666666,
    throughput_multiplier: 1.5,
    resource_pressure_multiplier: 1.15,
    normalized_contribution_share: 0.8571428571428571,
    measured_service_rate: 13.333333333333334,
    reference_service_rate: 7.777777777777779,
    memory_pressure: 1,
  },
  slow: {
    compute_share: 0.3333333333333333,
    throughput_multiplier: 0.5,
    resource_pressure_multiplier: 1.15,
    normalized_contribution_share: 0.14285714285714285,
    measured_service_rate: 2.2222222222222223,
    reference_service_rate: 7.777777777777779,
    memory_pressure: 1,
  },
} as const;

/** The README's quote of 128 + 256 tokens of a 64 GiB model, factor 2: 256 + 512 = 768 credits, without a budget. */
export const README_QUOTE_CONSUMPTION = {
  policy_version: 'divy-credit-1',
  model_size_factor: 2,
  prompt_credits: '256.000000000',
  completion_credits: '512.000000000',
  total_credits: '768.000000000',
} as const;

/** The README's settlement of 128 + 180 tokens, without its stream: 256 + 360 = 616 credits. */
export const README_SETTLE_CONSUMPTION = {
  policy_version: 'divy-credit-1',
  model_size_factor: 2,
  prompt_credits: '256.000000000',
  completion_credits: '360.000000000',
  total_credits: '616.000000000',
} as const;

/**
 * The whole answer to POST /settle with SETTLE_EXAMPLE: 616 of 768 reserved, 576 streamed, the
 * final 40 split between the workers, 152 released, and the postings of all that.
 */
export const README_SETTLEMENT = {
  ...README_SETTLE_CONSUMPTION,
  // The stream burned the prompt and 160 tokens, 256 + 320; the final 20 tokens burn 40; 768 - 616 go back.
  reconciliation: {
    reserved_credits: '768.000000000',
    streamed_credits: '576.000000000',
    final_delta_credits: '40.000000000',
    release_credits: '152.000000000',
  },
  contribution: {
    policy_version: 'divy-credit-1',
    job_credit_budget: '40.000000000',
    assignments: [
      { worker_id: 'fast-metal', credits: '34.285714286', ...README_WORKER_FACTORS.fast },
      { worker_id: 'slow-cpu', credits: '5.714285714', ...README_WORKER_FACTORS.slow },
    ],
  },
  job_id: 'job-42',
  delta_id: '1484f3ea72b3b2eebf165842da66b769',
  postings: [
    { id: 'eb91f0a194d1c357437d4b79ca95181e', kind: 'payout', debit_account: 'job:job-42:reservation', credit_account: 'worker:fast-metal', amount: '34.285714286' },
    { id: 'cc4a131d3c4fb12b8813986e491858cb', kind: 'payout', debit_account: 'job:job-42:reservation', credit_account: 'worker:slow-cpu', amount: '5.714285714' },
    { id: '78b4045b9a3336cc255b6fcb8bc51084', kind: 'release', debit_account: 'job:job-42:reservation', credit_account: 'job:job-42:submitter', amount: '152.000000000' },
  ],
} as const;

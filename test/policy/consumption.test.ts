import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  SAFE_INTEGER_MAX,
  DEFAULT_POLICY_PARAMETERS,
  DEFAULT_POLICY_SETTINGS,
  quoteConsumption,
  settleConsumption,
  settingsProblems,
  type PolicySettings,
} from '../../src/policy/index.js';
import { creditPattern, creditUnits, oracleTokenUnits } from '../support/credits.js';

const GIB = 2 ** 30;

function settingsWith(credit_scale: number, model_size_scale_gib: number): PolicySettings {
  const settings = {
    parameters: { ...DEFAULT_POLICY_PARAMETERS, model_size_scale_gib },
    credit_scale,
    max_assignments: DEFAULT_POLICY_SETTINGS.max_assignments,
  };
  expect(settingsProblems(settings)).toEqual([]);
  return settings;
}

describe('quoteConsumption and settleConsumption: examples', () => {
  it('quotes the README example: 64 GiB doubles every token', () => {
    expect(quoteConsumption({ prompt_tokens: 128, requested_completion_tokens: 256, total_model_bytes: 64 * GIB })).toEqual({
      policy_version: 'divy-credit-1',
      model_size_factor: 2,
      prompt_credits: '256.000000000',
      completion_credits: '512.000000000',
      total_credits: '768.000000000',
    });
  });

  it('settles the README example on the actual completion tokens', () => {
    expect(settleConsumption({ prompt_tokens: 128, actual_completion_tokens: 180, total_model_bytes: 64 * GIB })).toEqual({
      policy_version: 'divy-credit-1',
      model_size_factor: 2,
      prompt_credits: '256.000000000',
      completion_credits: '360.000000000',
      total_credits: '616.000000000',
    });
  });

  it.each([0, 1, 16 * GIB, 32 * GIB - 1, 32 * GIB])('floors the model size factor at 1 for %d bytes', (bytes) => {
    expect(quoteConsumption({ prompt_tokens: 7, requested_completion_tokens: 3, total_model_bytes: bytes })).toEqual({
      policy_version: 'divy-credit-1',
      model_size_factor: 1,
      prompt_credits: '7.000000000',
      completion_credits: '3.000000000',
      total_credits: '10.000000000',
    });
  });

  it('prices a zero-token job at zero', () => {
    const result = settleConsumption({ prompt_tokens: 0, actual_completion_tokens: 0, total_model_bytes: 64 * GIB });
    expect([result.prompt_credits, result.completion_credits, result.total_credits]).toEqual([
      '0.000000000',
      '0.000000000',
      '0.000000000',
    ]);
  });

  it('rounds a non-terminating factor half-even at 9 places', () => {
    // 48 GiB / 32 GiB = 1.5: 1 token = 1.5 exactly. 40 GiB / 32 GiB = 1.25. 33 GiB / 32 GiB = 1.03125.
    // 1 byte over 32 GiB: factor = 1 + 2^-35, so 1 token = 1.0000000000291... -> 1.000000000.
    expect(settleConsumption({ prompt_tokens: 1, actual_completion_tokens: 0, total_model_bytes: 32 * GIB + 1 }).prompt_credits).toBe(
      '1.000000000',
    );
    // 2^35 tokens would overflow the counters, but 2^31 tokens at 1 + 2^-35 is 2^31 + 2^-4 = 2147483648.0625.
    expect(settleConsumption({ prompt_tokens: 2 ** 31, actual_completion_tokens: 0, total_model_bytes: 32 * GIB + 1 }).prompt_credits).toBe(
      '2147483648.062500000',
    );
    // 3 tokens at 33 GiB: 3 * 1.03125 = 3.09375 exactly.
    expect(settleConsumption({ prompt_tokens: 3, actual_completion_tokens: 0, total_model_bytes: 33 * GIB }).prompt_credits).toBe(
      '3.093750000',
    );
  });
});

describe('custom settings', () => {
  it('rounds half-even at credit_scale 2 and keeps the total the exact sum of the rounded parts', () => {
    // 27 GiB / 24 GiB = 1.125. 1 token = 1.125 -> 1.12 (2 is even); 3 -> 3.375 -> 3.38 (7 is odd);
    // 5 -> 5.625 -> 5.62; 7 -> 7.875 -> 7.88.
    const settings = settingsWith(2, 24);
    const price = (prompt: number, completion: number) =>
      settleConsumption({ prompt_tokens: prompt, actual_completion_tokens: completion, total_model_bytes: 27 * GIB }, settings);
    expect(price(1, 3)).toEqual({
      policy_version: 'divy-credit-1',
      model_size_factor: 1.125,
      prompt_credits: '1.12',
      completion_credits: '3.38',
      total_credits: '4.50',
    });
    expect(price(5, 7)).toMatchObject({ prompt_credits: '5.62', completion_credits: '7.88', total_credits: '13.50' });
    // 1.125 + 5.625 = 6.75 unrounded, but the total is the sum of the rounded parts: 1.12 + 5.62.
    expect(price(1, 5)).toMatchObject({ prompt_credits: '1.12', completion_credits: '5.62', total_credits: '6.74' });
  });

  it('divides by a model_size_scale_gib that is not a power of two', () => {
    // 25 GiB / 24 GiB = 25/24 = 1.041666...: 1 -> 1.04, 2 -> 2.083 -> 2.08, 3 -> 3.125 -> 3.12,
    // 9 -> 9.375 -> 9.38, 12 -> 12.5, 15 -> 15.625 -> 15.62.
    const settings = settingsWith(2, 24);
    const credits = [1, 2, 3, 9, 12, 15].map(
      (tokens) => quoteConsumption({ prompt_tokens: tokens, requested_completion_tokens: 0, total_model_bytes: 25 * GIB }, settings).prompt_credits,
    );
    expect(credits).toEqual(['1.04', '2.08', '3.12', '9.38', '12.50', '15.62']);
    expect(quoteConsumption({ prompt_tokens: 1, requested_completion_tokens: 0, total_model_bytes: 25 * GIB }, settings).model_size_factor).toBe(
      25 / 24,
    );
  });

  it('prints whole credits at credit_scale 0, halves to even', () => {
    // 36 GiB / 24 GiB = 1.5: 1 -> 1.5 -> 2, 3 -> 4.5 -> 4, 5 -> 7.5 -> 8.
    const settings = settingsWith(0, 24);
    const result = quoteConsumption({ prompt_tokens: 1, requested_completion_tokens: 3, total_model_bytes: 36 * GIB }, settings);
    expect(result).toMatchObject({ model_size_factor: 1.5, prompt_credits: '2', completion_credits: '4', total_credits: '6' });
    const five = quoteConsumption({ prompt_tokens: 5, requested_completion_tokens: 0, total_model_bytes: 36 * GIB }, settings);
    expect(five.prompt_credits).toBe('8');
  });

  it('carries 18 fraction digits at credit_scale 18', () => {
    // 1 byte over 32 GiB: 1 token = 1 + 2^-35 = 1.0000000000291038304567337036133 -> 18 places, half-even.
    const settings = settingsWith(18, 32);
    const result = settleConsumption({ prompt_tokens: 1, actual_completion_tokens: 0, total_model_bytes: 32 * GIB + 1 }, settings);
    expect(result.prompt_credits).toBe('1.000000000029103830');
  });
});

const tokenCount = fc.integer({ min: 0, max: 1_000_000 });
const modelBytes = fc.oneof(
  fc.integer({ min: 0, max: 32 * GIB }),
  fc.integer({ min: 32 * GIB, max: 1024 * GIB }),
  fc.integer({ min: 0, max: SAFE_INTEGER_MAX }),
);
const customSettings = fc.record({
  credit_scale: fc.integer({ min: 0, max: 18 }),
  model_size_scale_gib: fc.constantFrom(0.5, 1, 1.5, 3, 24, 32, 48, 100),
});

describe('quoteConsumption and settleConsumption: properties', () => {
  it('price every token count exactly as round_half_even(n * factor) at the default scale', () => {
    fc.assert(
      fc.property(tokenCount, tokenCount, modelBytes, (prompt, completion, bytes) => {
        const result = settleConsumption({ prompt_tokens: prompt, actual_completion_tokens: completion, total_model_bytes: bytes });
        const promptUnits = oracleTokenUnits(prompt, bytes);
        const completionUnits = oracleTokenUnits(completion, bytes);
        expect(creditUnits(result.prompt_credits)).toBe(promptUnits);
        expect(creditUnits(result.completion_credits)).toBe(completionUnits);
        expect(creditUnits(result.total_credits)).toBe(promptUnits + completionUnits);
        expect(result.model_size_factor).toBe(Math.max(1, bytes / (32 * GIB)));
        expect(result.policy_version).toBe('divy-credit-1');
      }),
    );
  });

  it('price exactly under any credit_scale and model_size_scale_gib', () => {
    fc.assert(
      fc.property(tokenCount, tokenCount, modelBytes, customSettings, (prompt, completion, bytes, custom) => {
        const settings = settingsWith(custom.credit_scale, custom.model_size_scale_gib);
        const result = quoteConsumption({ prompt_tokens: prompt, requested_completion_tokens: completion, total_model_bytes: bytes }, settings);
        const promptUnits = oracleTokenUnits(prompt, bytes, custom);
        const completionUnits = oracleTokenUnits(completion, bytes, custom);
        for (const amount of [result.prompt_credits, result.completion_credits, result.total_credits]) {
          expect(amount).toMatch(creditPattern(custom.credit_scale));
        }
        expect(creditUnits(result.prompt_credits, custom.credit_scale)).toBe(promptUnits);
        expect(creditUnits(result.completion_credits, custom.credit_scale)).toBe(completionUnits);
        expect(creditUnits(result.total_credits, custom.credit_scale)).toBe(promptUnits + completionUnits);
      }),
    );
  });

  it('quote and settle price the same counts identically', () => {
    fc.assert(
      fc.property(tokenCount, tokenCount, modelBytes, (prompt, completion, bytes) => {
        expect(quoteConsumption({ prompt_tokens: prompt, requested_completion_tokens: completion, total_model_bytes: bytes })).toEqual(
          settleConsumption({ prompt_tokens: prompt, actual_completion_tokens: completion, total_model_bytes: bytes }),
        );
      }),
    );
  });

  it('never go negative and grow with tokens and with model bytes', () => {
    fc.assert(
      fc.property(tokenCount, tokenCount, modelBytes, modelBytes, (tokensA, tokensB, bytesA, bytesB) => {
        const [fewer, more] = tokensA <= tokensB ? [tokensA, tokensB] : [tokensB, tokensA];
        const [smaller, larger] = bytesA <= bytesB ? [bytesA, bytesB] : [bytesB, bytesA];
        const units = (tokens: number, bytes: number) => {
          const result = settleConsumption({ prompt_tokens: tokens, actual_completion_tokens: tokens, total_model_bytes: bytes });
          return [creditUnits(result.prompt_credits), creditUnits(result.completion_credits), creditUnits(result.total_credits)] as const;
        };
        const base = units(fewer, smaller);
        const moreTokens = units(more, smaller);
        const moreBytes = units(fewer, larger);
        for (let part = 0; part < 3; part += 1) {
          expect(base[part]).toBeGreaterThanOrEqual(0n);
          expect(moreTokens[part]).toBeGreaterThanOrEqual(base[part]!);
          expect(moreBytes[part]).toBeGreaterThanOrEqual(base[part]!);
        }
        // The factor is at least 1, so every token costs at least one credit.
        expect(base[0]).toBeGreaterThanOrEqual(BigInt(fewer) * 1_000_000_000n);
      }),
    );
  });

  it('price the largest accepted request exactly (2^32 - 1 tokens at 2^53 - 1 bytes)', () => {
    const prompt = 2 ** 31;
    const completion = 2 ** 31 - 1;
    const result = settleConsumption({ prompt_tokens: prompt, actual_completion_tokens: completion, total_model_bytes: SAFE_INTEGER_MAX });
    expect(creditUnits(result.prompt_credits)).toBe(oracleTokenUnits(prompt, SAFE_INTEGER_MAX));
    expect(creditUnits(result.completion_credits)).toBe(oracleTokenUnits(completion, SAFE_INTEGER_MAX));
    // (2^53 - 1) / 2^35 = 2^18 - 2^-35: 2^31 tokens cost 2^49 - 2^-4 credits exactly.
    expect(result.prompt_credits).toBe(`${2n ** 49n - 1n}.937500000`);
  });
});

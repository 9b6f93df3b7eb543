/**
 * Field builders. Request fields check JSON types only (a type mistake is a 400); the ranges
 * they document come from the policy's table and are its rules, reported as 422 with the same
 * wording.
 */
import { z } from 'zod';
import { CREDIT_AMOUNT_WHOLE_DIGITS_MAX, INPUT_RANGES, type IntegerRange, type RangedField } from '../../policy/index.js';
import { described, type SchemaDocs } from './docs.js';

/** An integer whose range is the policy's for `field`, or the one given. */
export function integerField(docs: SchemaDocs, range: RangedField | IntegerRange, description: string, example: number) {
  const { min, max } = typeof range === 'string' ? INPUT_RANGES[range] : range;
  return described(docs, z.number(), { type: 'integer', minimum: min, maximum: max, description, example });
}

export function ratioField(docs: SchemaDocs, description: string, example: number) {
  return described(docs, z.number(), { description, example });
}

/** A credit amount at the active scale; the example is what the policy computes for the worked example. */
export function creditField(docs: SchemaDocs, credit_scale: number, description: string, example: string) {
  return described(docs, z.string(), {
    description: `${description} (credits, a decimal string with exactly ${credit_scale} fraction digits)`,
    pattern: credit_scale === 0 ? '^[0-9]+$' : `^[0-9]+\\.[0-9]{${credit_scale}}$`,
    example,
  });
}

/**
 * The credit amounts a request may send, as the policy reads them: up to
 * CREDIT_AMOUNT_WHOLE_DIGITS_MAX digits, then a point and at most `credit_scale` fraction digits.
 * Documented only: the policy checks the rule and answers a 422 that names it.
 */
export function creditAmountInputPattern(credit_scale: number): string {
  const whole = `[0-9]{1,${CREDIT_AMOUNT_WHOLE_DIGITS_MAX}}`;
  return credit_scale === 0 ? `^${whole}$` : `^${whole}(\\.[0-9]{1,${credit_scale}})?$`;
}

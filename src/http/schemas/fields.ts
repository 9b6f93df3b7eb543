/**
 * Field builders. Request fields check JSON types only (a type mistake is a 400); the ranges
 * they document are rules of the policy, which reports them as 422 with the same wording.
 */
import { z } from 'zod';

export function integerField(description: string, minimum: number, maximum: number, example: number) {
  return z.number().meta({ type: 'integer', minimum, maximum, description, example });
}

export function ratioField(description: string, example: number) {
  return z.number().meta({ description, example });
}

export function creditField(description: string, example: string) {
  return z.string().meta({
    description: `${description} (credits, decimal string with exactly credit_scale fraction digits)`,
    pattern: '^[0-9]+(\\.[0-9]+)?$',
    example,
  });
}

import { Decimal } from 'decimal.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { divideRoundHalfEven, formatCreditUnits, unitsPerCredit } from '../../src/policy/credit-units.js';
import { creditPattern, Exact, oracleFormat } from '../support/credits.js';

describe('formatCreditUnits', () => {
  it('formats number units with exactly credit_scale fraction digits', () => {
    expect(formatCreditUnits(0, 9)).toBe('0.000000000');
    expect(formatCreditUnits(1, 9)).toBe('0.000000001');
    expect(formatCreditUnits(999_999_999, 9)).toBe('0.999999999');
    expect(formatCreditUnits(1_000_000_000, 9)).toBe('1.000000000');
    expect(formatCreditUnits(768_000_000_000, 9)).toBe('768.000000000');
    expect(formatCreditUnits(12_345, 2)).toBe('123.45');
    expect(formatCreditUnits(5, 2)).toBe('0.05');
  });

  it('formats bigint units with exactly credit_scale fraction digits', () => {
    expect(formatCreditUnits(0n, 9)).toBe('0.000000000');
    expect(formatCreditUnits(1n, 9)).toBe('0.000000001');
    expect(formatCreditUnits(768_000_000_000n, 9)).toBe('768.000000000');
    expect(formatCreditUnits(10n ** 30n, 9)).toBe('1000000000000000000000.000000000');
    expect(formatCreditUnits(10n ** 30n + 7n, 9)).toBe('1000000000000000000000.000000007');
  });

  it('prints whole credits without a decimal point at scale 0', () => {
    expect(formatCreditUnits(0, 0)).toBe('0');
    expect(formatCreditUnits(42, 0)).toBe('42');
    expect(formatCreditUnits(0n, 0)).toBe('0');
    expect(formatCreditUnits(123_456_789_012_345_678_901n, 0)).toBe('123456789012345678901');
  });

  it('pads to 18 fraction digits at scale 18', () => {
    expect(formatCreditUnits(0, 18)).toBe('0.000000000000000000');
    expect(formatCreditUnits(5, 18)).toBe('0.000000000000000005');
    expect(formatCreditUnits(5n, 18)).toBe('0.000000000000000005');
    expect(formatCreditUnits(10n ** 18n, 18)).toBe('1.000000000000000000');
    expect(formatCreditUnits(Number.MAX_SAFE_INTEGER, 18)).toBe('0.009007199254740991');
  });

  it('stays exact for number units around 2^52 and up to 2^53 - 1', () => {
    expect(formatCreditUnits(2 ** 52 - 1, 9)).toBe('4503599.627370495');
    expect(formatCreditUnits(2 ** 52, 9)).toBe('4503599.627370496');
    expect(formatCreditUnits(2 ** 52 + 1, 9)).toBe('4503599.627370497');
    expect(formatCreditUnits(2 ** 53 - 1, 9)).toBe('9007199.254740991');
    expect(formatCreditUnits(2 ** 53 - 1, 0)).toBe('9007199254740991');
    expect(formatCreditUnits(8_999_999_999_999_999, 9)).toBe('8999999.999999999');
  });

  it('refuses units that are negative or not whole, which no amount is', () => {
    expect(() => formatCreditUnits(-1, 9)).toThrow(RangeError);
    expect(() => formatCreditUnits(-1n, 9)).toThrow(RangeError);
    expect(() => formatCreditUnits(0.5, 9)).toThrow(RangeError);
    expect(() => formatCreditUnits(2 ** 53, 9)).toThrow(RangeError);
    expect(() => formatCreditUnits(Number.NaN, 0)).toThrow(RangeError);
  });

  it('agrees between the number and bigint paths for every safe integer at every scale', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), fc.integer({ min: 0, max: 18 }), (units, scale) => {
        const text = formatCreditUnits(units, scale);
        expect(formatCreditUnits(BigInt(units), scale)).toBe(text);
        expect(text).toMatch(creditPattern(scale));
        expect(text).toBe(oracleFormat(BigInt(units), scale));
      }),
    );
  });

  it('formats any bigint as its exact decimal value', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 40n }), fc.integer({ min: 0, max: 18 }), (units, scale) => {
        const text = formatCreditUnits(units, scale);
        expect(text).toMatch(creditPattern(scale));
        expect(text).toBe(oracleFormat(units, scale));
        expect(BigInt(text.replace('.', ''))).toBe(units);
      }),
    );
  });
});

describe('unitsPerCredit', () => {
  it('is 10^credit_scale over 0..18 and refuses other scales', () => {
    expect(unitsPerCredit(0)).toBe(1n);
    expect(unitsPerCredit(9)).toBe(1_000_000_000n);
    expect(unitsPerCredit(18)).toBe(10n ** 18n);
    expect(() => unitsPerCredit(19)).toThrow(RangeError);
    expect(() => unitsPerCredit(-1)).toThrow(RangeError);
    expect(() => unitsPerCredit(1.5)).toThrow(RangeError);
  });
});

describe('divideRoundHalfEven', () => {
  it('rounds exact halves to the even quotient', () => {
    expect(divideRoundHalfEven(1n, 2n)).toBe(0n);
    expect(divideRoundHalfEven(3n, 2n)).toBe(2n);
    expect(divideRoundHalfEven(5n, 2n)).toBe(2n);
    expect(divideRoundHalfEven(7n, 2n)).toBe(4n);
    expect(divideRoundHalfEven(9n, 2n)).toBe(4n);
    expect(divideRoundHalfEven(25n, 10n)).toBe(2n);
    expect(divideRoundHalfEven(35n, 10n)).toBe(4n);
  });

  it('rounds non-halves to the nearest quotient', () => {
    expect(divideRoundHalfEven(1n, 3n)).toBe(0n);
    expect(divideRoundHalfEven(2n, 3n)).toBe(1n);
    expect(divideRoundHalfEven(4n, 3n)).toBe(1n);
    expect(divideRoundHalfEven(5n, 3n)).toBe(2n);
    expect(divideRoundHalfEven(0n, 7n)).toBe(0n);
    expect(divideRoundHalfEven(14n, 7n)).toBe(2n);
    expect(divideRoundHalfEven(10n ** 30n + 1n, 2n)).toBe(10n ** 30n / 2n);
  });

  it('agrees with decimal.js ROUND_HALF_EVEN', () => {
    const denominator = fc.oneof(fc.bigInt({ min: 1n, max: 16n }), fc.bigInt({ min: 1n, max: 2n ** 64n }));
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 200n }), denominator, (numerator, divisor) => {
        const expected = new Exact(numerator.toString()).div(divisor.toString()).toDecimalPlaces(0, Decimal.ROUND_HALF_EVEN);
        expect(divideRoundHalfEven(numerator, divisor)).toBe(BigInt(expected.toFixed(0)));
      }),
    );
  });

  it('sends every exact half to the even neighbour', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 80n }), fc.bigInt({ min: 1n, max: 2n ** 40n }), (quotient, half) => {
        const divisor = half * 2n;
        const even = quotient % 2n === 0n ? quotient : quotient + 1n;
        expect(divideRoundHalfEven(quotient * divisor + half, divisor)).toBe(even);
      }),
    );
  });
});

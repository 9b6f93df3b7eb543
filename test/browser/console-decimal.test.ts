/**
 * The console's exact decimal arithmetic (console/decimal.js), run where it runs: in the browser.
 * Its sums and comparisons decide the "paid = burned" mark, so they must agree with decimal.js on
 * amounts far past what a float holds exactly.
 */
import { Decimal } from 'decimal.js';
import fc from 'fast-check';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { openWatchedPage, useBrowser, useServedApp } from '../support/browser.js';

/** A decimal string of up to 24 whole digits (well past 2^53 units) and 0 to 12 fraction digits. */
const decimalString = fc
  .tuple(fc.bigInt({ min: 0n, max: 10n ** 24n }), fc.integer({ min: 0, max: 12 }), fc.boolean())
  .map(([units, scale, negative]) => {
    const digits = units.toString().padStart(scale + 1, '0');
    const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
    return negative && units !== 0n ? `-${text}` : text;
  });

/** decimal.js rounds to 20 significant digits by default; these amounts have up to 36. */
const Exact = Decimal.clone({ precision: 100 });

interface Answers {
  readonly sum: string;
  readonly compare: number;
  readonly difference: string;
}

describe('console/decimal.js in the browser', { timeout: 60_000 }, () => {
  const served = useServedApp();
  const browser = useBrowser();
  let page: Page;

  beforeAll(async () => {
    page = (await openWatchedPage(browser())).page;
    await page.goto(`${served().origin}/console`);
  });

  /**
   * Runs the page's own module on the amounts. The script is text, so that the test runner's
   * transform leaves its import() alone: it runs in the page, not here.
   */
  function inBrowser(amounts: readonly string[]): Promise<Answers> {
    const [left = '0', right = '0'] = amounts;
    return page.evaluate(`import('/console/static/decimal.js').then((decimal) => ({
      sum: decimal.sumDecimals(${JSON.stringify(amounts)}),
      compare: decimal.compareDecimals(${JSON.stringify(left)}, ${JSON.stringify(right)}),
      difference: decimal.subtractDecimals(${JSON.stringify(left)}, ${JSON.stringify(right)}),
    }))`);
  }

  it('sums, compares and subtracts exactly, whatever the digits', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(decimalString, { minLength: 2, maxLength: 8 }), async (amounts) => {
        const scale = Math.max(...amounts.map((amount) => (amount.split('.')[1] ?? '').length));
        const pairScale = Math.max(...amounts.slice(0, 2).map((amount) => (amount.split('.')[1] ?? '').length));
        const [left, right] = [new Exact(amounts[0]!), new Exact(amounts[1]!)];
        const answers = await inBrowser(amounts);
        expect(answers.sum).toBe(amounts.reduce((sum, amount) => sum.plus(amount), new Exact(0)).toFixed(scale));
        expect(answers.compare).toBe(left.cmp(right));
        expect(answers.difference).toBe(left.minus(right).toFixed(pairScale));
      }),
      { numRuns: 200 },
    );
  });

  it('compares amounts a few units apart exactly, however large', async () => {
    const credits = (units: bigint) => new Exact(units.toString()).dividedBy(1e9).toFixed(9);
    await fc.assert(
      fc.asyncProperty(fc.bigInt({ min: 0n, max: 10n ** 30n }), fc.bigInt({ min: -2n, max: 2n }), async (units, apart) => {
        const answers = await inBrowser([credits(units + apart), credits(units)]);
        expect(answers.compare).toBe(apart > 0n ? 1 : apart < 0n ? -1 : 0);
        expect(answers.difference).toBe(credits(apart));
      }),
      { numRuns: 100 },
    );
  });

  it('tells apart amounts a float sum would call equal', async () => {
    // One unit apart, at an amount whose float spacing is about 10^-5: as floats, the same number.
    const answers = await inBrowser(['123456789012.000000001', '123456789012.000000000']);
    expect(Number('123456789012.000000001')).toBe(Number('123456789012.000000000'));
    expect(answers.compare).toBe(1);
    expect(answers.difference).toBe('0.000000001');
  });
});

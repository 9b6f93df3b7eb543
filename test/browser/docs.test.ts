/** Swagger UI in a real browser: it renders under the Content-Security-Policy, and "Try it out" works. */
import { describe, expect, it } from 'vitest';
import { openWatchedPage, requestsLeaving, saveScreenshot, useBrowser, useServedApp } from '../support/browser.js';

describe('Swagger UI at /docs', { timeout: 60_000 }, () => {
  const served = useServedApp();
  const browser = useBrowser();

  it('renders, and "Try it out" then "Execute" on POST /realtime-delta answers 200', async () => {
    const { page, context, requests, errors } = await openWatchedPage(browser());
    await page.goto(`${served().origin}/docs`);
    const operation = page.locator('.opblock-post', { has: page.locator('.opblock-summary-path[data-path="/realtime-delta"]') });
    await operation.locator('.opblock-summary').click();
    await operation.locator('button.try-out__btn').click();
    const answered = page.waitForResponse((response) => new URL(response.url()).pathname === '/realtime-delta');
    await operation.locator('button.execute').click();
    expect((await answered).status()).toBe(200);
    const status = operation.locator('.live-responses-table tbody .response-col_status').first();
    await status.waitFor();
    expect((await status.textContent())?.trim()).toBe('200');
    await saveScreenshot(page, 'docs-realtime-delta-executed');
    expect(errors).toEqual([]);
    expect(requestsLeaving(requests, served().origin)).toEqual([]);
    await context.close();
  });
});

/**
 * Swagger UI in a real browser shows what the service answers: each documented error status of an
 * operation shows its own example, and the response's Media type list sets Accept, so "Try it out"
 * answers the CSV of /contribution. Three clicks after opening /docs, as the README says.
 */
import { describe, expect, it } from 'vitest';
import { CSV_CONTENT_TYPE, workerCreditsCsv } from '../../src/http/csv.js';
import { CONTRIBUTION_EXAMPLE } from '../../src/http/schemas/examples.js';
import { computeContribution } from '../../src/policy/index.js';
import { openWatchedPage, requestsLeaving, saveScreenshot, useBrowser, useServedApp } from '../support/browser.js';

describe('Swagger UI at /docs, POST /contribution', { timeout: 60_000 }, () => {
  const served = useServedApp();
  const browser = useBrowser();

  it('shows a problem example of its own for each error status, and answers the CSV with Media type text/csv in three clicks', async () => {
    const { page, context, requests, errors } = await openWatchedPage(browser());
    await page.goto(`${served().origin}/docs`);
    const operation = page.locator('.opblock-post', { has: page.locator('.opblock-summary-path[data-path="/contribution"]') });

    // Click 1: expand the operation.
    await operation.locator('.opblock-summary').click();
    const documented = {
      '400': 'urn:divy:problem:invalid-request',
      '413': 'urn:divy:problem:body-too-large',
      '422': 'urn:divy:problem:policy-rule-violation',
      '500': 'about:blank',
    };
    for (const [status, type] of Object.entries(documented)) {
      const shown = (await operation.locator(`tr.response[data-code="${status}"]`).textContent()) ?? '';
      expect(shown, status).toContain(type);
      for (const other of Object.values(documented).filter((each) => each !== type)) expect(shown, status).not.toContain(other);
    }

    // Not a click: the 200 response's Media type list, which sets Accept.
    await operation.locator('tr.response[data-code="200"] .response-control-media-type select').selectOption(CSV_CONTENT_TYPE);
    // Click 2: Try it out, with the example body already in the editor.
    await operation.locator('button.try-out__btn').click();
    expect(JSON.parse(await operation.locator('textarea.body-param__text').inputValue())).toEqual(CONTRIBUTION_EXAMPLE);
    // Click 3: Execute.
    const sent = page.waitForRequest((request) => new URL(request.url()).pathname === '/contribution');
    const answered = page.waitForResponse((response) => new URL(response.url()).pathname === '/contribution');
    await operation.locator('button.execute').click();
    expect((await sent).headers()['accept']).toBe(CSV_CONTENT_TYPE);
    const response = await answered;
    expect(response.status()).toBe(200);
    expect(response.headers()['content-type']).toBe(CSV_CONTENT_TYPE);
    expect(await response.text()).toBe(workerCreditsCsv(computeContribution(CONTRIBUTION_EXAMPLE).assignments));
    const body = operation.locator('.live-responses-table .response-col_description pre').first();
    await body.waitFor();
    expect(await body.textContent()).toContain('fast-metal,528.000000000,');

    await saveScreenshot(page, 'docs-contribution-csv-executed');
    expect(errors).toEqual([]);
    expect(requestsLeaving(requests, served().origin)).toEqual([]);
    await context.close();
  });
});

/** The operator console in a real browser: what it shows, how it sorts, filters and pages, and how fast. */
import { readFileSync } from 'node:fs';
import { Decimal } from 'decimal.js';
import type { Browser, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { parseTokenPairs } from '../../src/http/auth.js';
import { REALTIME_DELTA_EXAMPLE } from '../../src/http/schemas/examples.js';
import type { WorkerAssignment } from '../../src/policy/index.js';
import { openWatchedPage, requestsLeaving, saveScreenshot, useBrowser, useServedApp, type WatchedPage } from '../support/browser.js';
import { postJson, type ProblemBody } from '../support/http.js';

/** A worker's row of an answer, as the service sends it. */
type WorkerCredit = { worker_id: string; credits: string } & Record<string, string | number>;

/**
 * The table's visible rows, keyed by its column headers. (Callbacks run in the page; the project's
 * TypeScript has no DOM types, so they read elements through their attributes and text.)
 */
async function visibleRows(page: Page): Promise<Record<string, string>[]> {
  const columns = await page.locator('#workers thead button').evaluateAll((buttons) => buttons.map((button) => button.getAttribute('data-column') as string));
  const rows = await page.locator('#workers tbody tr').evaluateAll((lines) =>
    lines.map((line) => [...line.querySelectorAll('td')].map((cell) => cell.textContent as string)),
  );
  return rows.map((cells) => Object.fromEntries(cells.map((text, index) => [columns[index]!, text])));
}

/** Waits for the page to show its next answer (or problem), after `action`; returns the page's state then. */
async function nextAnswer(page: Page, action: () => Promise<unknown>): Promise<string> {
  const before = Number((await page.getAttribute('body', 'data-answers')) ?? 0);
  await action();
  await page.waitForSelector(`body[data-answers="${before + 1}"]`, { state: 'attached' });
  return (await page.getAttribute('body', 'data-state'))!;
}

/**
 * The whole job of the README example (its prompt and all 256 reserved tokens: 768 credits) split
 * among `count` workers, each with its own capacity and speed, so that their credits differ.
 */
function manyWorkers(count: number): typeof REALTIME_DELTA_EXAMPLE {
  const assignments: WorkerAssignment[] = Array.from({ length: count }, (_, index) => ({
    worker_id: `w-${index + 1}`,
    execution_time_ms: 100 + ((index * 37) % 900),
    assigned_capacity_units: 1 + (index % 13),
    shard_column_start: index,
    shard_column_end: index + 1,
    available_memory_bytes: 2_000_000_000 + (index % 7) * 1_000_000_000,
  }));
  const whole = { frontier_completion_tokens: 256, accounted_completion_tokens: 0, prompt_credits_accounted: false };
  return { ...REALTIME_DELTA_EXAMPLE, ...whole, total_columns: count, assignments };
}

/** The order a stable sort by `column` gives, ties kept in input order, as the page promises. */
function sortedIds(workers: readonly WorkerCredit[], column: string, descending: boolean): string[] {
  const sign = descending ? -1 : 1;
  const value = (worker: WorkerCredit) => new Decimal(worker[column]!);
  return [...workers].sort((a, b) => sign * value(a).cmp(value(b))).map((worker) => worker.worker_id);
}

async function openConsole(browser: () => Browser, origin: string): Promise<WatchedPage> {
  const watched = await openWatchedPage(browser());
  await watched.page.goto(`${origin}/console`);
  return watched;
}

describe('the operator console', { timeout: 60_000 }, () => {
  const served = useServedApp();
  const browser = useBrowser();

  it('shows the README example: both workers with the credits the service answers, totals equal to the unit', async () => {
    const watched = await openConsole(browser, served().origin);
    const { page } = watched;
    await page.waitForSelector('body[data-state="ready"]');
    const sent = JSON.parse(await page.inputValue('#body'));
    expect(sent).toEqual(REALTIME_DELTA_EXAMPLE);
    const answer = (await postJson(served().app, '/realtime-delta', sent)).json();
    const rows = await visibleRows(page);
    expect(rows.map((row) => [row.worker_id, row.credits])).toEqual(
      answer.contribution.assignments.map((worker: WorkerCredit) => [worker.worker_id, worker.credits]),
    );
    expect(rows.map((row) => row.worker_id)).toEqual(['fast-metal', 'slow-cpu']);
    // Every factor, under the answer's own field name, as the service wrote it.
    for (const [index, worker] of (answer.contribution.assignments as WorkerCredit[]).entries()) {
      for (const [field, value] of Object.entries(worker)) expect(rows[index]![field], field).toBe(String(value));
    }
    expect(await page.textContent('#total-burned')).toBe(answer.consumption.total_credits);
    expect(await page.textContent('#total-paid')).toBe(answer.consumption.total_credits);
    expect(await page.textContent('#total-check')).toBe('✔ paid = burned, to the unit');
    expect(await page.textContent('#reservation-reserved')).toBe(answer.reservation.reserved_credits);
    expect(await page.textContent('#reservation-burned')).toBe(answer.reservation.burned_credits);
    expect(await page.textContent('#reservation-remaining')).toBe(answer.reservation.remaining_credits);
    expect(await page.textContent('#reservation-check')).toBe('✔ burned + remaining = reserved, to the unit');
    // The chart: a group of two bars per worker, credits beside compute share.
    expect(await page.locator('#chart svg g.worker').evaluateAll((groups) => groups.map((group) => group.querySelectorAll('rect').length))).toEqual([2, 2]);
    expect(await page.getAttribute('a[href="/docs"]', 'href')).toBe('/docs');
    await saveScreenshot(page, 'console-readme-example');
    expect(watched.errors).toEqual([]);
    expect(watched.requests.length).toBeGreaterThan(0);
    expect(requestsLeaving(watched.requests, served().origin)).toEqual([]);
    await watched.context.close();
  });

  it('switches to /contribution with its own example and shows its split', async () => {
    const { page, context, errors } = await openConsole(browser, served().origin);
    await page.waitForSelector('body[data-state="ready"]');
    await page.selectOption('#endpoint', '/contribution');
    const body = JSON.parse(await page.inputValue('#body'));
    expect(body.completion_tokens).toBeDefined();
    expect(await nextAnswer(page, () => page.click('#send'))).toBe('ready');
    const answer = (await postJson(served().app, '/contribution', body)).json();
    expect((await visibleRows(page)).map((row) => row.credits)).toEqual(answer.assignments.map((worker: WorkerCredit) => worker.credits));
    expect(await page.textContent('#total-burned')).toBe(answer.job_credit_budget);
    expect(await page.textContent('#total-check')).toBe('✔ paid = burned, to the unit');
    expect(await page.$('#reservation-reserved')).toBeNull();
    expect(errors).toEqual([]);
    await context.close();
  });

  it('sorts by any column, numbers and decimal strings by value, and filters by worker id', async () => {
    const { page, context } = await openConsole(browser, served().origin);
    await page.waitForSelector('body[data-state="ready"]');
    const body = manyWorkers(24);
    await page.fill('#body', JSON.stringify(body));
    expect(await nextAnswer(page, () => page.click('#send'))).toBe('ready');
    const workers: WorkerCredit[] = (await postJson(served().app, '/realtime-delta', body)).json().contribution.assignments;
    // Credits run from under 10 to over 10, so a sort by text would put "10.x" before "9.x".
    expect(workers.some((worker) => new Decimal(worker.credits).lt(10)) && workers.some((worker) => new Decimal(worker.credits).gte(10))).toBe(true);
    const ids = async () => (await visibleRows(page)).map((row) => row.worker_id);

    await page.click('#workers thead button[data-column="credits"]');
    expect(await ids()).toEqual(sortedIds(workers, 'credits', false));
    expect(await page.getAttribute('#workers th:has(button[data-column="credits"])', 'aria-sort')).toBe('ascending');
    await page.click('#workers thead button[data-column="credits"]');
    expect(await ids()).toEqual(sortedIds(workers, 'credits', true));
    expect(await page.getAttribute('#workers th:has(button[data-column="credits"])', 'aria-sort')).toBe('descending');
    await page.click('#workers thead button[data-column="measured_service_rate"]');
    expect(await ids()).toEqual(sortedIds(workers, 'measured_service_rate', false));

    await page.fill('#filter', 'w-1');
    const filtered = sortedIds(workers, 'measured_service_rate', false).filter((id) => id.includes('w-1'));
    expect(filtered.length).toBeGreaterThan(1);
    expect(await ids()).toEqual(filtered);
    await saveScreenshot(page, 'console-sorted-filtered');
    await page.fill('#filter', 'no-such-worker');
    expect(await ids()).toEqual([]);
    await context.close();
  });

  it('renders a broken request\'s problem in place: its title and the offending fields', async () => {
    const { page, context } = await openConsole(browser, served().origin);
    await page.waitForSelector('body[data-state="ready"]');
    // Two broken rules: a frontier behind the accounted tokens, and a shard past the last column.
    const [fast, slow] = REALTIME_DELTA_EXAMPLE.assignments;
    const body = { ...REALTIME_DELTA_EXAMPLE, frontier_completion_tokens: 10, assignments: [fast, { ...slow, shard_column_end: 9000 }] };
    await page.fill('#body', JSON.stringify(body, null, 2));
    expect(await nextAnswer(page, () => page.click('#send'))).toBe('problem');
    const problem = (await postJson(served().app, '/realtime-delta', body)).json<ProblemBody>();
    expect(problem.errors!.length).toBe(2);
    expect(await page.textContent('#problem-title')).toBe(`422 ${problem.title}`);
    expect(await page.textContent('#problem-detail')).toBe(problem.detail);
    expect(await page.locator('#problem-fields li').allTextContents()).toEqual(
      problem.errors!.map((error) => `${error.path} ${error.message}`),
    );
    expect(await page.isHidden('#answer')).toBe(true);
    await saveScreenshot(page, 'console-problem');

    // Text that is not JSON goes to the service as it is; its problem says so.
    await page.fill('#body', '{"prompt_tokens": ');
    expect(await nextAnswer(page, () => page.click('#send'))).toBe('problem');
    expect(await page.textContent('#problem-title')).toBe('400 Malformed JSON');
    await context.close();
  });

  it('loads a request from a JSON file and shows 10000 workers without freezing', async () => {
    const { page, context, errors } = await openConsole(browser, served().origin);
    await page.waitForSelector('body[data-state="ready"]');
    const body = manyWorkers(10_000);
    await page.setInputFiles('#file', { name: 'ten-thousand.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(body)) });
    await expect.poll(async () => (await page.inputValue('#body')).length).toBeGreaterThan(1_000_000);

    // From the click on Send until the answer is shown and a click on a sort header has taken effect.
    const started = performance.now();
    expect(await nextAnswer(page, () => page.click('#send'))).toBe('ready');
    const shown = performance.now();
    await page.click('#workers thead button[data-column="credits"]');
    await page.waitForSelector('#workers th[aria-sort="ascending"] button[data-column="credits"]');
    const interactive = performance.now();
    console.log(`console, 10000 workers: answer shown ${Math.round(shown - started)} ms after Send, sorted ${Math.round(interactive - shown)} ms later; interactive after ${Math.round(interactive - started)} ms`);
    expect(interactive - started).toBeLessThan(5_000);

    expect(await page.textContent('#page-status')).toBe('Workers 1–50 of 10000 (of 10000); page 1 of 200');
    expect(await page.locator('#workers tbody tr').count()).toBe(50);
    // The chart keeps the 15 workers paid most and folds the other 9985 into one row, their average.
    expect(await page.locator('#chart svg g.worker').count()).toBe(16);
    expect(await page.textContent('#chart svg g.worker:last-child text.label')).toBe('others (9985 workers, average)');
    expect(await page.textContent('#total-check')).toBe('✔ paid = burned, to the unit');
    await page.click('#page-next');
    expect(await page.textContent('#page-status')).toBe('Workers 51–100 of 10000 (of 10000); page 2 of 200');
    await saveScreenshot(page, 'console-10000-workers');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('downloads the same request as CSV: a header row and one row per worker', async () => {
    const { page, context } = await openConsole(browser, served().origin);
    await page.waitForSelector('body[data-state="ready"]');
    const answer = (await postJson(served().app, '/realtime-delta', REALTIME_DELTA_EXAMPLE)).json();
    const download = page.waitForEvent('download');
    await page.click('#download-csv');
    const problemShown = page.waitForSelector('#problem:not([hidden])').then(async () => {
      throw new Error(`no CSV was saved; the page shows: ${await page.textContent('#problem')}`);
    });
    const saved = await Promise.race([download, problemShown]);
    expect(saved.suggestedFilename()).toBe('realtime-delta.csv');
    const lines = readFileSync((await saved.path())!, 'utf8').trimEnd().split(/\r?\n/);
    const header = lines[0]!.split(',');
    const workers: WorkerCredit[] = answer.contribution.assignments;
    expect(lines.length).toBe(1 + workers.length);
    for (const [index, worker] of workers.entries()) {
      const cells = lines[index + 1]!.split(',');
      for (const [field, value] of Object.entries(worker)) expect(cells[header.indexOf(field)], field).toBe(String(value));
    }
    await context.close();
  });
});

describe('the operator console with auth on', { timeout: 60_000 }, () => {
  const OPERATOR_TOKEN = 'operator-console-token-1';
  const served = useServedApp({ auth_tokens: parseTokenPairs(`operator:${OPERATOR_TOKEN},coordinator:coordinator-token-2`, 'AUTH_TOKENS', 'AUTH_TOKENS').grants });
  const browser = useBrowser();

  it('asks for a token, shows the 401 of a wrong one, and works with an operator token sent on every call', async () => {
    const { page, context, requests } = await openConsole(browser, served().origin);
    await page.waitForSelector('body[data-state="needs-token"]');
    expect(await page.isVisible('#token-form')).toBe(true);
    expect(await page.getAttribute('#token', 'type')).toBe('password');
    await saveScreenshot(page, 'console-asks-for-token');

    await page.fill('#token', 'not-a-known-token');
    expect(await nextAnswer(page, () => page.click('#token-form button[type="submit"]'))).toBe('problem');
    expect(await page.textContent('#problem-title')).toBe('401 Unauthorized');
    expect(await page.textContent('#problem-detail')).toBe('The bearer token is not one this service knows.');
    expect(await page.isVisible('#token-form')).toBe(true);

    await page.fill('#token', OPERATOR_TOKEN);
    await nextAnswer(page, () => page.click('#token-form button[type="submit"]'));
    await page.waitForSelector('body[data-state="ready"]');
    expect(await page.isHidden('#token-form')).toBe(true);
    expect((await visibleRows(page)).map((row) => row.worker_id)).toEqual(['fast-metal', 'slow-cpu']);

    // Every call to the service carries the token; the token is in no URL and in no storage.
    const calls = requests.filter(({ url }) => !new URL(url).pathname.startsWith('/console/static/') && new URL(url).pathname !== '/console');
    expect(calls.map(({ url, authorization }) => [new URL(url).pathname, authorization])).toEqual([
      ['/console/examples', undefined],
      ['/console/examples', 'Bearer not-a-known-token'],
      ['/console/examples', `Bearer ${OPERATOR_TOKEN}`],
      ['/realtime-delta', `Bearer ${OPERATOR_TOKEN}`],
    ]);
    expect(requests.filter(({ url }) => url.includes(OPERATOR_TOKEN))).toEqual([]);
    expect(await page.evaluate('[sessionStorage.length, localStorage.length]')).toEqual([0, 0]);
    expect(page.url()).toBe(`${served().origin}/console`);
    await context.close();
  });
});

/**
 * Real-browser tests: the app listening on 127.0.0.1, driven by Debian's headless Chromium through
 * playwright-core. Every page records its requests and its console errors, and saves screenshots
 * under reports/screenshots/.
 */
import { existsSync, mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { buildApp, type AppOptions } from '../../src/app.js';

/** Debian's chromium package installs here; CHROMIUM_PATH points elsewhere. */
const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Flags that keep a headless Chromium quiet: no sandbox (tests run as root in CI), no GPU, and
 * none of the background traffic (updates, safe browsing) that would reach past 127.0.0.1.
 */
const CHROMIUM_FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

export const SCREENSHOT_DIR = fileURLToPath(new URL('../../reports/screenshots/', import.meta.url));

export interface ServedApp {
  readonly app: FastifyInstance;
  /** `http://127.0.0.1:<port>`, without a trailing slash. */
  readonly origin: string;
}

/** The app, listening on a free port of 127.0.0.1, for the enclosing describe block (or file). */
export function useServedApp(options: AppOptions = {}): () => ServedApp {
  let served: ServedApp | undefined;
  beforeAll(async () => {
    const app = await buildApp(options);
    await app.listen({ host: '127.0.0.1', port: 0 });
    served = { app, origin: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` };
  });
  afterAll(async () => {
    await served?.app.close();
    served = undefined;
  });
  return () => {
    if (served === undefined) throw new Error('useServedApp: the app only listens while the tests of its block run');
    return served;
  };
}

/**
 * One headless Chromium for the block. Without it the tests fail, saying how to install it: a
 * browser test that skipped itself would pass CI without having looked at a page.
 */
export function useBrowser(): () => Browser {
  let browser: Browser | undefined;
  beforeAll(async () => {
    if (!existsSync(CHROMIUM_PATH)) {
      throw new Error(`no Chromium at ${CHROMIUM_PATH}: install Debian's package (apt-get install -y chromium) or set CHROMIUM_PATH`);
    }
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_FLAGS, headless: true });
  });
  afterAll(async () => {
    await browser?.close();
    browser = undefined;
  });
  return () => {
    if (browser === undefined) throw new Error('useBrowser: the browser only runs while the tests of its block run');
    return browser;
  };
}

/** One request the page made: where to, and the Authorization header it carried. */
export interface SentRequest {
  readonly url: string;
  readonly authorization: string | undefined;
}

/** A page in a fresh context, with what it requested and what it logged as an error. */
export interface WatchedPage {
  readonly page: Page;
  readonly context: BrowserContext;
  /** Every request the page made, in order, from the first one on. */
  readonly requests: SentRequest[];
  /** Console errors and uncaught exceptions, as text. */
  readonly errors: string[];
}

export async function openWatchedPage(browser: Browser): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  const requests: SentRequest[] = [];
  const errors: string[] = [];
  page.on('request', (request) => requests.push({ url: request.url(), authorization: request.headers().authorization }));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(String(error)));
  return { page, context, requests, errors };
}

/** The requests that went anywhere but the app: a blob or data URL never leaves the browser. */
export function requestsLeaving(requests: readonly SentRequest[], origin: string): string[] {
  return requests.map(({ url }) => url).filter((url) => !(url.startsWith(`${origin}/`) || url.startsWith(`blob:${origin}/`) || url.startsWith('data:')));
}

/** Saves a full-page screenshot as reports/screenshots/<name>.png and returns its path. */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = `${SCREENSHOT_DIR}${name}.png`;
  await page.screenshot({ path, fullPage: true });
  return path;
}

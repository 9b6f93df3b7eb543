/**
 * The operator console: one page, its script modules and its style sheet, all served by the
 * service itself, so it works under helmet's default Content-Security-Policy (no CDN, no inline
 * script or style). The assets live in the project's top-level console/ folder, three levels above
 * this file both under tsx (src/http/routes/) and once compiled (dist/http/routes/).
 */
import { readFile } from 'node:fs/promises';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { CONTRIBUTION_EXAMPLE, REALTIME_DELTA_EXAMPLE } from '../schemas/examples.js';
import type { RouteOptions } from './options.js';

export const CONSOLE_PATH = '/console';
/** The page's own files; ROUTE_ACCESS leaves this prefix open, since they hold no data. */
export const CONSOLE_STATIC_PREFIX = `${CONSOLE_PATH}/static/`;
/** The request bodies the editor starts with; an operator route like every other that holds data. */
export const CONSOLE_EXAMPLES_PATH = `${CONSOLE_PATH}/examples`;

const ASSET_FOLDER = new URL('../../../console/', import.meta.url);

const CONTENT_TYPES = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
} as const;

/** Every file the page loads: a fixed list, so no request can name a path of its own. */
const STATIC_FILES = ['console.css', 'console.js', 'api.js', 'decimal.js', 'table.js', 'chart.js', 'totals.js'] as const;

/** The editor's starting bodies, keyed by the endpoint they are sent to: the README's worked example, job-42. */
export const CONSOLE_EXAMPLES = {
  '/realtime-delta': REALTIME_DELTA_EXAMPLE,
  '/contribution': CONTRIBUTION_EXAMPLE,
} as const;

interface Asset {
  readonly body: string;
  readonly content_type: string;
}

/**
 * Reads every asset once, at start: a missing file is a packaging mistake, better found when the
 * service starts than when an operator opens the page.
 */
async function readAsset(name: string): Promise<Asset> {
  const extension = name.slice(name.lastIndexOf('.') + 1) as keyof typeof CONTENT_TYPES;
  const url = new URL(name, ASSET_FOLDER);
  const body = await readFile(url, 'utf8').catch((error: unknown) => {
    throw new Error(`the operator console's file ${url.pathname} is missing; the console/ folder must sit beside dist/ or src/`, { cause: error });
  });
  return { body, content_type: CONTENT_TYPES[extension] };
}

export const consoleRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app) => {
  // Hidden from the OpenAPI document: the console is a page for people, not part of the API.
  const hidden = { schema: { hide: true } };
  const page = await readAsset('index.html');
  app.get(CONSOLE_PATH, hidden, async (_request, reply) => reply.type(page.content_type).send(page.body));

  for (const name of STATIC_FILES) {
    const asset = await readAsset(name);
    app.get(`${CONSOLE_STATIC_PREFIX}${name}`, hidden, async (_request, reply) => reply.type(asset.content_type).send(asset.body));
  }

  app.get(CONSOLE_EXAMPLES_PATH, hidden, async () => CONSOLE_EXAMPLES);
};

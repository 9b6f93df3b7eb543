/** Swagger UI: served from the service itself, with no asset from another host. */
import { describe, expect, it } from 'vitest';
import { useApp } from '../support/http.js';

/** The URLs an HTML page loads: every <script src> and <link href>. */
function referencedAssets(html: string): string[] {
  const scripts = [...html.matchAll(/<script\b[^>]*\bsrc\s*=\s*["']([^"']+)["']/gi)].map((match) => match[1]!);
  const links = [...html.matchAll(/<link\b[^>]*\bhref\s*=\s*["']([^"']+)["']/gi)].map((match) => match[1]!);
  return [...scripts, ...links];
}

describe('Swagger UI at /docs', () => {
  const app = useApp();

  it.each(['/docs', '/docs/'])('GET %s serves the UI page, loading only local assets that exist', async (page) => {
    const response = await app().inject({ method: 'GET', url: page });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.body).toContain('<div id="swagger-ui">');

    const assets = referencedAssets(response.body);
    expect(assets.length).toBeGreaterThanOrEqual(3);
    expect(assets.some((asset) => asset.endsWith('swagger-ui-bundle.js'))).toBe(true);
    expect(response.body).not.toMatch(/(src|href)\s*=\s*["'](https?:)?\/\//i);

    for (const asset of assets) {
      expect(asset, `${page} loads ${asset}`).not.toMatch(/^(https?:)?\/\//i);
      const url = new URL(asset, `http://service.invalid${page}`);
      expect(url.host, asset).toBe('service.invalid');
      expect(url.pathname, asset).toMatch(/^\/docs\/static\//);
      const fetched = await app().inject({ method: 'GET', url: url.pathname });
      expect(fetched.statusCode, url.pathname).toBe(200);
      expect(fetched.rawPayload.length, url.pathname).toBeGreaterThan(0);
    }
  });

  it('the initializer loads the document from the service itself and calls no outside validator', async () => {
    const response = await app().inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/javascript/);
    expect(response.body).toContain("url: resolveUrl('./json')");
    // No call to the public swagger.io validator either.
    expect(response.body).toContain('validatorUrl: null');
  });

  it('GET /docs/json serves the OpenAPI document as JSON', async () => {
    const response = await app().inject({ method: 'GET', url: '/docs/json' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    const document = response.json<{ openapi: string; info: { title: string } }>();
    expect(document.openapi).toBe('3.1.0');
    expect(document.info.title).toBe('Divy credit accounting');
  });

  it('the description Swagger UI shows links to the operator console, a page the service serves', async () => {
    const response = await app().inject({ method: 'GET', url: '/docs/json' });
    const { description } = response.json<{ info: { description: string } }>().info;
    const links = [...description.matchAll(/\[([^\]]+)\]\(([^)]+)\)/g)].map((match) => ({ text: match[1], href: match[2] }));
    expect(links).toStrictEqual([{ text: 'operator console', href: '/console' }]);
    // Swagger UI resolves the link against /docs: the same origin's /console.
    const target = new URL(links[0]!.href!, 'http://service.invalid/docs');
    const page = await app().inject({ method: 'GET', url: target.pathname });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
  });

  it('an unknown docs asset is a 404', async () => {
    const response = await app().inject({ method: 'GET', url: '/docs/static/nope.js' });
    expect(response.statusCode).toBe(404);
  });
});

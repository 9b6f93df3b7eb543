import { buildApp } from '../app.js';

/** The OpenAPI document of the default app, as committed in openapi/openapi.json. */
export async function openapiDocument(): Promise<string> {
  const app = await buildApp();
  try {
    await app.ready();
    return `${JSON.stringify(app.swagger(), null, 2)}\n`;
  } finally {
    await app.close();
  }
}

/** Writes the OpenAPI document the app generates to openapi/openapi.json. */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { openapiDocument } from '../src/http/openapi-document.js';

const target = fileURLToPath(new URL('../openapi/openapi.json', import.meta.url));
writeFileSync(target, await openapiDocument());
console.log(`wrote ${target}`);

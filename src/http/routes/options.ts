import type { PolicyCatalog } from '../../policy/index.js';
import type { RouteAnswerers } from '../route-answers.js';
import type { ApiSchemas } from '../schemas/api.js';

/** What every route plugin is registered with: the policies served, the app's schemas, and the answerers built from them. */
export interface RouteOptions {
  readonly catalog: PolicyCatalog;
  readonly schemas: ApiSchemas;
  readonly answerers: RouteAnswerers;
}

import type { PolicyCatalog } from '../../policy/index.js';
import type { ApiSchemas } from '../schemas/api.js';

/** What every route plugin is registered with: the policies served and the app's schemas. */
export interface RouteOptions {
  readonly catalog: PolicyCatalog;
  readonly schemas: ApiSchemas;
}

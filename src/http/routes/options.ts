import type { PolicySettings } from '../../policy/index.js';
import type { ApiSchemas } from '../schemas/api.js';

/** What every route plugin is registered with: the active policy and the app's schemas. */
export interface RouteOptions {
  readonly settings: PolicySettings;
  readonly schemas: ApiSchemas;
}

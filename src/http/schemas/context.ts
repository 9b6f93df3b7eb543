import type { PolicySettings } from '../../policy/index.js';
import type { SchemaDocs } from './docs.js';

/** What every schema builder reads: the app's registry and the policy its descriptions state. */
export interface SchemaContext {
  readonly docs: SchemaDocs;
  readonly settings: PolicySettings;
}

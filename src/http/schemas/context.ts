import type { PolicySettings } from '../../policy/index.js';
import type { SchemaDocs } from './docs.js';

/** What every schema builder reads: the app's registry and the policies its descriptions state. */
export interface SchemaContext {
  readonly docs: SchemaDocs;
  /** The current policy: the one descriptions and examples state. */
  readonly settings: PolicySettings;
  /** Every policy version the app serves, the current one included. */
  readonly versions: readonly string[];
}

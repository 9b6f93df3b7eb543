/**
 * Each app documents its schemas in a registry of its own. The descriptions carry the numbers
 * of the app's active policy, so two apps with different policies in one process must not
 * share zod's global registry, where the last one built would win.
 */
import { z } from 'zod';

export type SchemaMeta = z.core.GlobalMeta;
export type SchemaDocs = z.core.$ZodRegistry<SchemaMeta>;

export function createSchemaDocs(): SchemaDocs {
  return z.registry<SchemaMeta>();
}

/** A copy of `schema` documented by `meta` in `docs`: zod's `.meta()`, in the app's own registry. */
export function described<Schema extends z.ZodType>(docs: SchemaDocs, schema: Schema, meta: SchemaMeta): Schema {
  const copy = schema.clone() as Schema;
  docs.add(copy, meta);
  return copy;
}

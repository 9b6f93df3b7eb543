import type { FastifySchemaCompiler } from 'fastify';
import type { PolicyCatalog } from '../../policy/index.js';
import type { BodyRefusal } from '../request-validation.js';
import type { RouteAnswerers } from '../route-answers.js';
import type { ApiSchemas } from '../schemas/api.js';

/** What every route plugin is registered with: the policies served, the app's schemas, and the answerers built from them. */
export interface RouteOptions {
  readonly catalog: PolicyCatalog;
  readonly schemas: ApiSchemas;
  readonly answerers: RouteAnswerers;
  /**
   * The app's validator compiler, with `refuse` run on a body before its schema reads it (a
   * route's list sizes). Typed for any route: a route's own compiler is typed by its whole schema
   * object, though Fastify hands it one part's schema, a zod schema here.
   */
  readonly validatorRefusing: (refuse: BodyRefusal) => FastifySchemaCompiler<unknown>;
}

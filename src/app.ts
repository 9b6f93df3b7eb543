/**
 * Builds the Fastify app: schemas, routes, errors and docs. It never listens; src/server.ts does,
 * and tests drive the app with inject().
 */
import type { KeyObject } from 'node:crypto';
import helmet from '@fastify/helmet';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifySchemaCompiler, type FastifyBaseLogger, type FastifyInstance, type FastifyPluginAsync, type FastifyPluginCallback, type FastifyPluginOptions } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { requireBearerTokens, type TokenGrant } from './http/auth.js';
import { connectionGuard, connectionLimits, connectionServerOptions, type ConnectionLimits } from './http/connection-limits.js';
import { DOCS_PREFIX, openapiOptions } from './http/openapi.js';
import { parseJsonKeepingReceivedBody, type BodyOffload } from './http/json-body.js';
import { BATCH_MAX_UPDATES_DEFAULT, bodyLimitBytesFor } from './http/limits.js';
import { SHED_RETRY_AFTER_S_DEFAULT, shedLoad, type LoadShedding } from './http/load-shedding.js';
import { offloadLargeBodies, passingOffloadedAnswers, type Offload } from './http/offload/pool.js';
import { handleError, handleFrameworkError, handleNotFound, NOT_READY_PROBLEM, PROBLEM_TYPES, sendProblem, SHUTTING_DOWN_PROBLEM } from './http/problem.js';
import { limitRequestRate } from './http/rate-limit.js';
import { REQUEST_ID_HEADER, requestIdOf } from './http/request-id.js';
import { createMetrics, instrumentApp, type Metrics } from './http/metrics.js';
import { RequestLogController } from './http/request-log.js';
import { RequestChecks, requestValidatorCompiler, type BodyRefusal } from './http/request-validation.js';
import { routeAnswerers } from './http/route-answers.js';
import { consoleRoutes } from './http/routes/console.js';
import { consumptionRoutes } from './http/routes/consumption.js';
import { contributionRoutes } from './http/routes/contribution.js';
import { jwksRoutes } from './http/routes/jwks.js';
import { metricsRoutes } from './http/routes/metrics.js';
import { realtimeDeltaBatchRoutes } from './http/routes/realtime-delta-batch.js';
import { realtimeDeltaRoutes } from './http/routes/realtime-delta.js';
import { serviceRoutes } from './http/routes/service.js';
import { apiSchemas } from './http/schemas/api.js';
import { signAccountingAnswers } from './http/signing.js';
import { catalogOfOne, DEFAULT_POLICY_SETTINGS, settingsFor, type PolicyCatalog, type PolicySettings } from './policy/index.js';

export interface AppOptions {
  /** The policies served side by side; without it, `settings` alone (the default policy without either). */
  readonly catalog?: PolicyCatalog;
  readonly settings?: PolicySettings;
  /** A pino logger; none means silent. */
  readonly logger?: FastifyBaseLogger;
  /** Defaults to enough for the current policy's `max_assignments` workers. */
  readonly body_limit_bytes?: number;
  /** Most updates one batch may carry (BATCH_MAX_UPDATES_DEFAULT by default). */
  readonly batch_max_updates?: number;
  /** An Ed25519 private key: with it, every 200 answer of an accounting endpoint is signed (RFC 9421). */
  readonly signing_key?: KeyObject | undefined;
  /** Timeouts and the connection cap of the listening server; each one not given has its default. */
  readonly connection_limits?: Partial<ConnectionLimits> | undefined;
  /** Bearer tokens and their roles (src/http/auth.ts); none means every endpoint is open. */
  readonly auth_tokens?: readonly TokenGrant[] | undefined;
  /** Most requests per minute per token (per IP without auth); none means no limit. */
  readonly rate_limit_per_min?: number | undefined;
  /** When to shed load with 503s (src/http/load-shedding.ts); none means never (the server's config turns it on). */
  readonly load_shedding?: LoadShedding | undefined;
  /** Large jobs answered in a worker-thread pool (src/http/offload/pool.ts); none, or 0 threads, answers all inline. */
  readonly offload?: Omit<Offload, 'retry_after_s'> | undefined;
}

/** The apps told to stop being ready (see markNotReady). */
const notReadyApps = new WeakSet<FastifyInstance>();

/**
 * Turns readiness off at the start of a shutdown: `/readyz` answers 503 from now on while every
 * other request is still served, so a load balancer stops sending traffic before the listener closes.
 */
export function markNotReady(app: FastifyInstance): void {
  notReadyApps.add(app);
}

export async function buildApp(options: AppOptions = {}): Promise<FastifyInstance> {
  const catalog = options.catalog ?? catalogOfOne(options.settings ?? DEFAULT_POLICY_SETTINGS);
  const limits = connectionLimits(options.connection_limits);
  // One registry per app, so two apps in one process count apart.
  const metrics = createMetrics();
  const guard = connectionGuard(limits, metrics.countProblem);
  const app = Fastify({
    ...connectionServerOptions(limits),
    // Errors on the connection before a request exists (bad request line, huge headers, timeouts).
    clientErrorHandler: guard.clientErrorHandler,
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    bodyLimit: options.body_limit_bytes ?? bodyLimitBytesFor(settingsFor(catalog, undefined).max_assignments),
    genReqId: requestIdOf,
    logController: new RequestLogController(options.logger),
    // Requests that arrive while closing get a problem body from the hook below instead.
    return503OnClosing: false,
    // Errors raised before routing (a badly encoded URL) get the same problem body as the rest.
    frameworkErrors: handleFrameworkError,
    // The error handler describes schema errors itself, the first 100 of them; Fastify's default
    // formatter would first join every one of them (60000 for 10000 empty assignments) into a
    // message that is never sent.
    schemaErrorFormatter: (_errors, dataVar) => new Error(`the ${dataVar} does not match the schema`),
  }).withTypeProvider<ZodTypeProvider>();

  guard.install(app);
  // One set of ajv checks for the route validators and the readers of batches alike.
  const requestChecks = new RequestChecks();
  // A body the offload pool answered was validated there, by the same schema.
  const validatorRefusing = (refuse?: BodyRefusal) => passingOffloadedAnswers(requestValidatorCompiler(requestChecks, refuse)) as FastifySchemaCompiler<unknown>;
  app.setValidatorCompiler(validatorRefusing());
  // Replies come from the policy, whose types the compiler already checks against the
  // schemas; validating each one again at run time would cost a third of the throughput.
  // JSON.stringify, not writers compiled from the schemas (fast-json-stringify, Fastify's default):
  // each float of an answer is then written by V8's own number formatting without a string of its
  // own, and an 8-worker delta cost 18 us less a request (BENCHMARKS.md).
  app.setSerializerCompiler(() => writeAnswerJson);
  const schemas = apiSchemas(catalog, options.batch_max_updates);
  // Bodies are JSON only; without this parser a text body would pass as a string.
  app.removeContentTypeParser('text/plain');
  app.setErrorHandler(handleError);
  app.setNotFoundHandler(handleNotFound);
  addRequestLifecycle(app);
  parseJsonKeepingReceivedBody(app, offloadIfEnabled(app, options, catalog, metrics));
  instrumentApp(app, metrics);
  // Before the routes: which routes sign is decided as each is declared.
  if (options.signing_key !== undefined) signAccountingAnswers(app, options.signing_key);

  // The cheapest refusal first: a shed request costs no auth check, body read or validation.
  if (options.load_shedding !== undefined) await shedLoad(app, options.load_shedding, metrics);
  // Before the rate limit, whose key is the caller the auth hook finds.
  if (options.auth_tokens !== undefined) requireBearerTokens(app, options.auth_tokens);
  // Before the routes: the rate limit covers only routes registered after it.
  if (options.rate_limit_per_min !== undefined) await limitRequestRate(app, options.rate_limit_per_min);

  await app.register(
    swagger,
    openapiOptions(schemas.docs, {
      bearer_auth: options.auth_tokens !== undefined,
      shedding_retry_after_s: options.load_shedding?.retry_after_s,
      rate_limit_per_min: options.rate_limit_per_min,
    }),
  );
  // Helmet's default CSP suits Swagger UI, whose assets are all served from /docs/static.
  await app.register(underHelmet(swaggerUi), { routePrefix: DOCS_PREFIX });
  const routeOptions = { catalog, schemas, answerers: routeAnswerers(catalog, schemas, requestChecks), validatorRefusing };
  await app.register(consumptionRoutes, routeOptions);
  await app.register(contributionRoutes, routeOptions);
  await app.register(realtimeDeltaRoutes, routeOptions);
  await app.register(realtimeDeltaBatchRoutes, routeOptions);
  await app.register(serviceRoutes, routeOptions);
  await app.register(underHelmet(consoleRoutes), routeOptions);
  await app.register(jwksRoutes, { ...routeOptions, signing_key: options.signing_key });
  await app.register(metricsRoutes, { ...routeOptions, metrics });
  return app;
}

/** The pool that answers large jobs (before the routes, whose hooks it adds to), when the options enable it. */
function offloadIfEnabled(app: FastifyInstance, options: AppOptions, catalog: PolicyCatalog, metrics: Metrics): BodyOffload | undefined {
  if (!options.offload?.threads) return undefined;
  // A full queue is shed like an overloaded process, with the same Retry-After.
  const retry_after_s = options.load_shedding?.retry_after_s ?? SHED_RETRY_AFTER_S_DEFAULT;
  return offloadLargeBodies(app, { ...options.offload, retry_after_s }, catalog, options.batch_max_updates ?? BATCH_MAX_UPDATES_DEFAULT, metrics);
}

/**
 * Helmet's full set (Content-Security-Policy, framing, referrer and the rest) for the pages a
 * browser renders, Swagger UI and the console: registered inside their own context, so the JSON
 * API pays nothing for it: @fastify/helmet builds helmet's middleware anew for every request, about
 * a quarter of the CPU time of a /quote.
 */
function underHelmet<Options extends FastifyPluginOptions>(pages: FastifyPluginAsync<Options> | FastifyPluginCallback<Options>): FastifyPluginAsync<Options> {
  return async (context, options) => {
    await context.register(helmet);
    await context.register(pages, options);
  };
}

/** Request id and nosniff on every reply, refusal of compressed bodies, and load shedding while closing. */
function addRequestLifecycle(app: FastifyInstance): void {
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  // A callback hook: an async one costs a promise on every request.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    // A browser must never run a JSON or problem body (which echo what callers sent) as HTML or
    // script. Nothing else of helmet's matters for JSON: a CSP or framing rule governs documents a
    // browser renders, and Strict-Transport-Security belongs to the TLS terminator in front
    // (browsers ignore it over plain HTTP, which is what Divy serves).
    reply.header('x-content-type-options', 'nosniff');
    const encoding = request.headers['content-encoding'];
    if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
      return void sendProblem(request, reply, {
        type: PROBLEM_TYPES.unsupportedMediaType,
        title: 'Unsupported content encoding',
        status: 400,
        detail: `Content-Encoding ${encoding} is not supported; send the body uncompressed.`,
      });
    }
    if (notReadyApps.has(app) && !closing && request.routeOptions.url === '/readyz') {
      return void sendProblem(request, reply, NOT_READY_PROBLEM);
    }
    if (closing && request.routeOptions.url !== '/healthz') {
      reply.header('connection', 'close');
      return void sendProblem(request, reply, SHUTTING_DOWN_PROBLEM);
    }
    done();
  });
}

/** Every JSON body the app answers, written out (bench/profile.ts charges its time by this name). */
function writeAnswerJson(data: unknown): string {
  return JSON.stringify(data);
}

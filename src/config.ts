/**
 * Reads the service's configuration once, from the environment and an optional policy file, and
 * fails fast with one message that names every bad setting.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import {
  connectionLimits,
  KEEP_ALIVE_TIMEOUT_MS_DEFAULT,
  MAX_CONNECTIONS_CEILING,
  MAX_CONNECTIONS_DEFAULT,
  REQUEST_TIMEOUT_MS_DEFAULT,
  TIMEOUT_MS_MAX,
  TIMEOUT_MS_MIN,
  type ConnectionLimits,
} from './http/connection-limits.js';
import { parseTokenPairs, type TokenGrant } from './http/auth.js';
import {
  SHED_MAX_EVENT_LOOP_DELAY_MS_DEFAULT,
  SHED_MAX_EVENT_LOOP_UTILIZATION_DEFAULT,
  SHED_RETRY_AFTER_S_DEFAULT,
  SHED_SAMPLE_INTERVAL_MS_DEFAULT,
  SHED_SAMPLE_INTERVAL_MS_MIN,
  shedMaxHeapUsedBytesDefault,
  type LoadShedding,
} from './http/load-shedding.js';
import { OFFLOAD_MIN_BODY_BYTES_DEFAULT, OFFLOAD_THREADS_MAX, offloadThreadsDefault } from './http/offload/pool.js';
import { BATCH_MAX_UPDATES_CEILING, BATCH_MAX_UPDATES_DEFAULT, bodyLimitBytesFor } from './http/limits.js';
import { createSchemaDocs } from './http/schemas/docs.js';
import { WORKERS_MAX } from './cluster.js';
import { usableCores } from './cpu-cores.js';
import { policyCatalogFileSchema, policyFileSchema } from './http/schemas/policy-parameters.js';
import {
  ASSIGNMENTS_MAX_CEILING,
  ASSIGNMENTS_MAX_DEFAULT,
  CREDIT_SCALE_DEFAULT,
  CREDIT_SCALE_MAX,
  CREDIT_SCALE_MIN,
  catalogOf,
  catalogProblems,
  DEFAULT_POLICY_PARAMETERS,
  type PolicyCatalog,
  type PolicyParameters,
} from './policy/index.js';

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly log_level: string;
  readonly body_limit_bytes: number;
  readonly shutdown_grace_ms: number;
  /** How long the listener stays open after SIGTERM/SIGINT, with /readyz answering 503, before it closes. */
  readonly shutdown_drain_ms: number;
  /** The policies served side by side, and which is current. */
  readonly catalog: PolicyCatalog;
  /** Most updates one batch may carry. */
  readonly batch_max_updates: number;
  /** The Ed25519 private key that signs answers; none means answers are not signed. */
  readonly signing_key: KeyObject | undefined;
  /** Request, headers and keep-alive timeouts, and the connection cap. */
  readonly connection_limits: ConnectionLimits;
  /** Bearer tokens and their roles, from AUTH_TOKENS or AUTH_TOKENS_FILE; none means the service runs open. */
  readonly auth_tokens: readonly TokenGrant[] | undefined;
  /** Most requests per minute per token (per IP without auth); none means no limit. */
  readonly rate_limit_per_min: number | undefined;
  /** Processes serving on the one port (WORKERS); above 1, a cluster primary runs them and serves nothing itself. */
  readonly workers: number;
  /** When to shed load with 503s. */
  readonly load_shedding: LoadShedding;
  /** Large jobs answered in a worker-thread pool: OFFLOAD_THREADS threads, bodies of OFFLOAD_MIN_BODY_BYTES and up. */
  readonly offload: { readonly threads: number; readonly min_body_bytes: number };
}


/** The drain after SIGTERM when NODE_ENV is production (a load balancer needs a few probes to notice); 0 elsewhere. */
export const SHUTDOWN_DRAIN_MS_PRODUCTION_DEFAULT = 5000;
export const SHUTDOWN_DRAIN_MS_MAX = 600_000;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const integerSetting = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, { error: `must be an integer from ${min} to ${max}` })
    .transform(Number)
    .refine((value) => value >= min && value <= max, { error: `must be an integer from ${min} to ${max}` });

const SHARE_RULE = 'must be a decimal from 0 to 1, such as 0.9';
/** A share such as 0.9: digits and at most one point, no exponent, so what is read is what was meant. */
const shareSetting = z
  .string()
  .regex(/^(0|1)(\.\d{1,6})?$|^\.\d{1,6}$/, { error: SHARE_RULE })
  .transform(Number)
  .refine((value) => value >= 0 && value <= 1, { error: SHARE_RULE });

const WORKERS_RULE = `must be an integer from 1 to ${WORKERS_MAX}, or auto (one per available core, at most ${WORKERS_MAX})`;
const workersSetting = z
  .string()
  .regex(/^(\d+|auto)$/, { error: WORKERS_RULE })
  .transform((value) => (value === 'auto' ? Math.min(usableCores(), WORKERS_MAX) : Number(value)))
  .refine((value) => value >= 1 && value <= WORKERS_MAX, { error: WORKERS_RULE });

const EnvironmentSchema = z
  .object({
    PORT: integerSetting(0, 65_535).default(3000),
    HOST: z.string().min(1).default('127.0.0.1'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    CREDIT_SCALE: integerSetting(CREDIT_SCALE_MIN, CREDIT_SCALE_MAX).default(CREDIT_SCALE_DEFAULT),
    MAX_ASSIGNMENTS: integerSetting(1, ASSIGNMENTS_MAX_CEILING).default(ASSIGNMENTS_MAX_DEFAULT),
    BODY_LIMIT_BYTES: integerSetting(1024, 1024 ** 3).optional(),
    SHUTDOWN_GRACE_MS: integerSetting(0, 3_600_000).default(10_000),
    SHUTDOWN_DRAIN_MS: integerSetting(0, SHUTDOWN_DRAIN_MS_MAX).optional(),
    POLICY_FILE: z.string().min(1).optional(),
    BATCH_MAX_UPDATES: integerSetting(1, BATCH_MAX_UPDATES_CEILING).default(BATCH_MAX_UPDATES_DEFAULT),
    SIGNING_KEY_FILE: z.string().min(1).optional(),
    REQUEST_TIMEOUT_MS: integerSetting(TIMEOUT_MS_MIN, TIMEOUT_MS_MAX).default(REQUEST_TIMEOUT_MS_DEFAULT),
    HEADERS_TIMEOUT_MS: integerSetting(TIMEOUT_MS_MIN, TIMEOUT_MS_MAX).optional(),
    KEEP_ALIVE_TIMEOUT_MS: integerSetting(TIMEOUT_MS_MIN, TIMEOUT_MS_MAX).default(KEEP_ALIVE_TIMEOUT_MS_DEFAULT),
    MAX_CONNECTIONS: integerSetting(1, MAX_CONNECTIONS_CEILING).default(MAX_CONNECTIONS_DEFAULT),
    // Parsed by readAuthTokens, whose messages never repeat a token (zod's would).
    AUTH_TOKENS: z.string().optional(),
    AUTH_TOKENS_FILE: z.string().optional(),
    RATE_LIMIT_PER_MIN: integerSetting(1, 1_000_000).optional(),
    SHED_MAX_EVENT_LOOP_DELAY_MS: integerSetting(0, TIMEOUT_MS_MAX).default(SHED_MAX_EVENT_LOOP_DELAY_MS_DEFAULT),
    SHED_MAX_EVENT_LOOP_UTILIZATION: shareSetting.default(SHED_MAX_EVENT_LOOP_UTILIZATION_DEFAULT),
    SHED_MAX_HEAP_USED_BYTES: integerSetting(0, Number.MAX_SAFE_INTEGER).optional(),
    SHED_SAMPLE_INTERVAL_MS: integerSetting(SHED_SAMPLE_INTERVAL_MS_MIN, 60_000).default(SHED_SAMPLE_INTERVAL_MS_DEFAULT),
    SHED_RETRY_AFTER_S: integerSetting(1, 3600).default(SHED_RETRY_AFTER_S_DEFAULT),
    WORKERS: workersSetting.default(1),
    OFFLOAD_THREADS: integerSetting(0, OFFLOAD_THREADS_MAX).optional(),
    OFFLOAD_MIN_BODY_BYTES: integerSetting(0, 1024 ** 3).default(OFFLOAD_MIN_BODY_BYTES_DEFAULT),
  })
  .superRefine((env, context) => {
    if (env.AUTH_TOKENS !== undefined && env.AUTH_TOKENS_FILE !== undefined) {
      context.addIssue({ code: 'custom', path: ['AUTH_TOKENS_FILE'], message: 'must not be set together with AUTH_TOKENS; set one of them' });
    }
    // Only between two valid timeouts: a value out of range has its own message already.
    const valid = (ms: number) => ms >= TIMEOUT_MS_MIN && ms <= TIMEOUT_MS_MAX;
    const headers = env.HEADERS_TIMEOUT_MS;
    if (headers !== undefined && valid(headers) && valid(env.REQUEST_TIMEOUT_MS) && headers > env.REQUEST_TIMEOUT_MS) {
      context.addIssue({ code: 'custom', path: ['HEADERS_TIMEOUT_MS'], message: `must be at most REQUEST_TIMEOUT_MS (${env.REQUEST_TIMEOUT_MS})` });
    }
  });

const schemaDocs = createSchemaDocs();
const PolicyFileSchema = policyFileSchema(schemaDocs);
const PolicyCatalogFileSchema = policyCatalogFileSchema(schemaDocs);

/** The policies a policy file lists: each overrides the default parameters it names. */
interface PolicyList {
  readonly current: string;
  readonly policies: readonly PolicyParameters[];
}

export function loadConfig(environment: NodeJS.ProcessEnv): Config {
  const parsed = EnvironmentSchema.safeParse(emptyAsUnset(environment));
  if (!parsed.success) throw new ConfigError(describeIssues('environment', parsed.error.issues));
  const env = parsed.data;
  const { current, policies } = env.POLICY_FILE ? readPolicyFile(env.POLICY_FILE) : { current: DEFAULT_POLICY_PARAMETERS.version, policies: [DEFAULT_POLICY_PARAMETERS] };
  const deployment = { credit_scale: env.CREDIT_SCALE, max_assignments: env.MAX_ASSIGNMENTS };
  const problems = catalogProblems(current, policies, deployment);
  if (problems.length > 0) {
    const source = env.POLICY_FILE ? `POLICY_FILE ${env.POLICY_FILE} with CREDIT_SCALE and MAX_ASSIGNMENTS` : 'CREDIT_SCALE and MAX_ASSIGNMENTS';
    throw new ConfigError(`invalid policy settings from ${source}: ${problems.join('; ')}`);
  }
  return {
    port: env.PORT,
    host: env.HOST,
    log_level: env.LOG_LEVEL,
    body_limit_bytes: env.BODY_LIMIT_BYTES ?? bodyLimitBytesFor(env.MAX_ASSIGNMENTS),
    shutdown_grace_ms: env.SHUTDOWN_GRACE_MS,
    shutdown_drain_ms: env.SHUTDOWN_DRAIN_MS ?? (environment['NODE_ENV'] === 'production' ? SHUTDOWN_DRAIN_MS_PRODUCTION_DEFAULT : 0),
    catalog: catalogOf(current, policies, deployment),
    batch_max_updates: env.BATCH_MAX_UPDATES,
    signing_key: env.SIGNING_KEY_FILE === undefined ? undefined : readSigningKey(env.SIGNING_KEY_FILE),
    connection_limits: connectionLimits({
      request_timeout_ms: env.REQUEST_TIMEOUT_MS,
      ...(env.HEADERS_TIMEOUT_MS === undefined ? {} : { headers_timeout_ms: env.HEADERS_TIMEOUT_MS }),
      keep_alive_timeout_ms: env.KEEP_ALIVE_TIMEOUT_MS,
      max_connections: env.MAX_CONNECTIONS,
    }),
    auth_tokens: readAuthTokens(env),
    rate_limit_per_min: env.RATE_LIMIT_PER_MIN,
    workers: env.WORKERS,
    load_shedding: {
      max_event_loop_delay_ms: env.SHED_MAX_EVENT_LOOP_DELAY_MS,
      max_event_loop_utilization: env.SHED_MAX_EVENT_LOOP_UTILIZATION,
      max_heap_used_bytes: env.SHED_MAX_HEAP_USED_BYTES ?? shedMaxHeapUsedBytesDefault(),
      sample_interval_ms: env.SHED_SAMPLE_INTERVAL_MS,
      retry_after_s: env.SHED_RETRY_AFTER_S,
    },
    offload: { threads: env.OFFLOAD_THREADS ?? offloadThreadsDefault(), min_body_bytes: env.OFFLOAD_MIN_BODY_BYTES },
  };
}

/** The tokens of AUTH_TOKENS or AUTH_TOKENS_FILE (the schema refuses both), every bad entry named at once. */
function readAuthTokens(env: { readonly AUTH_TOKENS?: string | undefined; readonly AUTH_TOKENS_FILE?: string | undefined }): TokenGrant[] | undefined {
  if (env.AUTH_TOKENS !== undefined) return grantsOrThrow(parseTokenPairs(env.AUTH_TOKENS, 'AUTH_TOKENS', 'AUTH_TOKENS'));
  const path = env.AUTH_TOKENS_FILE;
  if (path === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`AUTH_TOKENS_FILE ${path} cannot be read: ${(error as Error).message}`);
  }
  return grantsOrThrow(parseTokenPairs(text, 'AUTH_TOKENS_FILE', `AUTH_TOKENS_FILE ${path}`));
}

function grantsOrThrow({ grants, problems }: { grants: TokenGrant[]; problems: string[] }): TokenGrant[] {
  if (problems.length > 0) throw new ConfigError(`invalid bearer tokens: ${problems.join('; ')}`);
  return grants;
}

/** One policy (`{ "version": ... }`) or several (`{ "current": ..., "policies": [...] }`). */
function readPolicyFile(path: string): PolicyList {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`POLICY_FILE ${path} cannot be read: ${(error as Error).message}`);
  }
  let content: unknown;
  try {
    content = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`POLICY_FILE ${path} is not valid JSON: ${(error as Error).message}`);
  }
  const listsPolicies = typeof content === 'object' && content !== null && 'policies' in content;
  if (!listsPolicies) {
    const policy = withDefaults(parseOrThrow(PolicyFileSchema, content, path));
    return { current: policy.version, policies: [policy] };
  }
  const catalog = parseOrThrow(PolicyCatalogFileSchema, content, path);
  return { current: catalog.current, policies: catalog.policies.map(withDefaults) };
}

function parseOrThrow<Output>(schema: z.ZodType<Output>, content: unknown, path: string): Output {
  const parsed = schema.safeParse(content);
  if (!parsed.success) throw new ConfigError(describeIssues(`POLICY_FILE ${path}`, parsed.error.issues));
  return parsed.data;
}

/** The default parameters, with those a policy names in their place. */
function withDefaults(policy: { readonly version: string } & { readonly [Name in keyof PolicyParameters]?: PolicyParameters[Name] | undefined }): PolicyParameters {
  const named = Object.fromEntries(Object.entries(policy).filter(([, value]) => value !== undefined));
  return { ...DEFAULT_POLICY_PARAMETERS, ...named, version: policy.version };
}

/** How to make a signing key, for the messages that refuse one. */
const MAKE_SIGNING_KEY = 'openssl genpkey -algorithm ed25519 -out key.pem';

/** An Ed25519 private key in PEM: the only kind the signatures use. */
function readSigningKey(path: string): KeyObject {
  let pem: Buffer;
  try {
    pem = readFileSync(path);
  } catch (error) {
    throw new ConfigError(`SIGNING_KEY_FILE ${path} cannot be read: ${(error as Error).message}`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (error) {
    throw new ConfigError(`SIGNING_KEY_FILE ${path} is not a PEM private key (${MAKE_SIGNING_KEY} makes one): ${(error as Error).message}`);
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new ConfigError(`SIGNING_KEY_FILE ${path} holds a key of type ${key.asymmetricKeyType ?? key.type}; answers are signed with Ed25519 only (${MAKE_SIGNING_KEY} makes one)`);
  }
  return key;
}

/** An empty variable means "not set", as with `PORT= npm start`. */
function emptyAsUnset(environment: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(environment).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ''));
}

/** A field's path as a reader writes it: `policies[1].version`. */
function pathOf(path: readonly PropertyKey[]): string {
  return path.map((key, index) => (typeof key === 'number' ? `[${key}]` : `${index === 0 ? '' : '.'}${String(key)}`)).join('');
}

function describeIssues(source: string, issues: readonly z.core.$ZodIssue[]): string {
  const lines = issues.map((issue) => `${pathOf(issue.path) || '(root)'}: ${issue.message}`);
  return `invalid configuration in the ${source}: ${lines.join('; ')}`;
}

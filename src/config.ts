/**
 * Reads the service's configuration once, from the environment and an optional policy file, and
 * fails fast with one message that names every bad setting.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { bodyLimitBytesFor } from './http/body-limit.js';
import { createSchemaDocs } from './http/schemas/docs.js';
import { policyFileSchema } from './http/schemas/policy-parameters.js';
import {
  ASSIGNMENTS_MAX_CEILING,
  ASSIGNMENTS_MAX_DEFAULT,
  CREDIT_SCALE_DEFAULT,
  CREDIT_SCALE_MAX,
  CREDIT_SCALE_MIN,
  DEFAULT_POLICY_PARAMETERS,
  settingsProblems,
  type PolicyParameters,
  type PolicySettings,
} from './policy/index.js';

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly log_level: string;
  readonly body_limit_bytes: number;
  readonly shutdown_grace_ms: number;
  readonly settings: PolicySettings;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const integerSetting = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, { error: `must be an integer from ${min} to ${max}` })
    .transform(Number)
    .refine((value) => value >= min && value <= max, { error: `must be an integer from ${min} to ${max}` });

const EnvironmentSchema = z.object({
  PORT: integerSetting(0, 65_535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  CREDIT_SCALE: integerSetting(CREDIT_SCALE_MIN, CREDIT_SCALE_MAX).default(CREDIT_SCALE_DEFAULT),
  MAX_ASSIGNMENTS: integerSetting(1, ASSIGNMENTS_MAX_CEILING).default(ASSIGNMENTS_MAX_DEFAULT),
  BODY_LIMIT_BYTES: integerSetting(1024, 1024 ** 3).optional(),
  SHUTDOWN_GRACE_MS: integerSetting(0, 3_600_000).default(10_000),
  POLICY_FILE: z.string().min(1).optional(),
});

const PolicyFileSchema = policyFileSchema(createSchemaDocs());

export function loadConfig(environment: NodeJS.ProcessEnv): Config {
  const parsed = EnvironmentSchema.safeParse(emptyAsUnset(environment));
  if (!parsed.success) throw new ConfigError(describeIssues('environment', parsed.error.issues));
  const env = parsed.data;
  const settings: PolicySettings = {
    parameters: { ...DEFAULT_POLICY_PARAMETERS, ...(env.POLICY_FILE ? readPolicyFile(env.POLICY_FILE) : {}) },
    credit_scale: env.CREDIT_SCALE,
    max_assignments: env.MAX_ASSIGNMENTS,
  };
  const problems = settingsProblems(settings);
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
    settings,
  };
}

function readPolicyFile(path: string): Partial<PolicyParameters> {
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
  const parsed = PolicyFileSchema.safeParse(content);
  if (!parsed.success) throw new ConfigError(describeIssues(`POLICY_FILE ${path}`, parsed.error.issues));
  return Object.fromEntries(Object.entries(parsed.data).filter(([, value]) => value !== undefined));
}

/** An empty variable means "not set", as with `PORT= npm start`. */
function emptyAsUnset(environment: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(environment).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ''));
}

function describeIssues(source: string, issues: readonly z.core.$ZodIssue[]): string {
  const lines = issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  return `invalid configuration in the ${source}: ${lines.join('; ')}`;
}

/** loadConfig: defaults, overrides from the environment and a policy file, and clear failures. */
import { generateKeyPairSync } from 'node:crypto';
import { getHeapStatistics } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, type Config } from '../../src/config.js';
import { usableCores } from '../../src/cpu-cores.js';
import { CONTRIBUTION_EXAMPLE } from '../../src/http/schemas/examples.js';
import {
  ASSIGNMENTS_MAX_CEILING,
  computeContribution,
  DEFAULT_POLICY_PARAMETERS,
  PARAMETER_NAMES,
  type Contribution,
  type ContributionInput,
  type PolicyCatalog,
  type PolicySettings,
} from '../../src/policy/index.js';
import { postJson, useApp } from '../support/http.js';
import { MODEL_DEFAULT_PARAMETERS } from '../support/model-defaults.js';
import { useTempDir } from '../support/temp-dir.js';

const DEFAULT_SETTINGS: PolicySettings = {
  parameters: MODEL_DEFAULT_PARAMETERS,
  credit_scale: 9,
  max_assignments: 10_000,
};

/** The catalog of a deployment that serves one policy, written out. */
function catalogOfJust(settings: PolicySettings): PolicyCatalog {
  return { current: settings.parameters.version, policies: new Map([[settings.parameters.version, settings]]) };
}

/** The one policy of a configuration that serves one, checked to be the only and current one. */
function onlySettings(config: Config): PolicySettings {
  expect([...config.catalog.policies.keys()]).toEqual([config.catalog.current]);
  return config.catalog.policies.get(config.catalog.current)!;
}

const DEFAULT_CONFIG: Config = {
  port: 3000,
  host: '127.0.0.1',
  log_level: 'info',
  body_limit_bytes: 10_000 * 512 + 65_536,
  shutdown_grace_ms: 10_000,
  shutdown_drain_ms: 0,
  catalog: catalogOfJust(DEFAULT_SETTINGS),
  batch_max_updates: 1000,
  signing_key: undefined,
  connection_limits: { request_timeout_ms: 30_000, headers_timeout_ms: 10_000, keep_alive_timeout_ms: 5000, max_connections: 10_000 },
  auth_tokens: undefined,
  rate_limit_per_min: undefined,
  workers: 1,
  load_shedding: {
    max_event_loop_delay_ms: 25,
    max_event_loop_utilization: 0.9,
    // 90% of V8's heap limit, which depends on the machine.
    max_heap_used_bytes: Math.floor(getHeapStatistics().heap_size_limit * 0.9),
    sample_interval_ms: 100,
    retry_after_s: 1,
  },
  // All usable cores (within a CPU quota, test/cpu-cores.test.ts) but the one of the event loop, at least one.
  offload: { threads: Math.max(1, usableCores() - 1), min_body_bytes: 32_768 },
};
const DEFAULT_SHEDDING = DEFAULT_CONFIG.load_shedding;
const DEFAULT_LIMITS = DEFAULT_CONFIG.connection_limits;

/** The ConfigError that loadConfig throws for `env`; fails the test if it throws nothing or something else. */
function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).name).toBe('ConfigError');
    return error as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig: the environment', () => {
  it('uses the defaults when nothing is set', () => {
    expect(loadConfig({})).toStrictEqual(DEFAULT_CONFIG);
    expect(onlySettings(loadConfig({})).parameters).toEqual(DEFAULT_POLICY_PARAMETERS);
  });

  it('ignores variables it does not know', () => {
    expect(loadConfig({ PATH: '/usr/bin', HOME: '/root', NODE_ENV: 'development' })).toStrictEqual(DEFAULT_CONFIG);
    // NODE_ENV only sets the default drain after SIGTERM.
    expect(loadConfig({ PATH: '/usr/bin', HOME: '/root', NODE_ENV: 'production' })).toStrictEqual({ ...DEFAULT_CONFIG, shutdown_drain_ms: 5000 });
  });

  it.each<[string, NodeJS.ProcessEnv, Partial<Config>]>([
    ['PORT', { PORT: '8080' }, { port: 8080 }],
    ['PORT=0 (any free port)', { PORT: '0' }, { port: 0 }],
    ['PORT=65535', { PORT: '65535' }, { port: 65_535 }],
    ['HOST', { HOST: '0.0.0.0' }, { host: '0.0.0.0' }],
    ['LOG_LEVEL', { LOG_LEVEL: 'debug' }, { log_level: 'debug' }],
    ['LOG_LEVEL=silent', { LOG_LEVEL: 'silent' }, { log_level: 'silent' }],
    ['SHUTDOWN_GRACE_MS', { SHUTDOWN_GRACE_MS: '2500' }, { shutdown_grace_ms: 2500 }],
    ['SHUTDOWN_DRAIN_MS', { SHUTDOWN_DRAIN_MS: '15000' }, { shutdown_drain_ms: 15_000 }],
    ['SHUTDOWN_DRAIN_MS=600000', { SHUTDOWN_DRAIN_MS: '600000' }, { shutdown_drain_ms: 600_000 }],
    ['NODE_ENV=production (drain 5000 by default)', { NODE_ENV: 'production' }, { shutdown_drain_ms: 5000 }],
    ['NODE_ENV=production with SHUTDOWN_DRAIN_MS=0', { NODE_ENV: 'production', SHUTDOWN_DRAIN_MS: '0' }, { shutdown_drain_ms: 0 }],
    ['BODY_LIMIT_BYTES', { BODY_LIMIT_BYTES: '2048' }, { body_limit_bytes: 2048 }],
    ['BATCH_MAX_UPDATES', { BATCH_MAX_UPDATES: '50' }, { batch_max_updates: 50 }],
    ['BATCH_MAX_UPDATES=100000', { BATCH_MAX_UPDATES: '100000' }, { batch_max_updates: 100_000 }],
    ['REQUEST_TIMEOUT_MS', { REQUEST_TIMEOUT_MS: '60000' }, { connection_limits: { ...DEFAULT_LIMITS, request_timeout_ms: 60_000 } }],
    // A request timeout below the default headers timeout pulls that default down with it.
    ['REQUEST_TIMEOUT_MS=100', { REQUEST_TIMEOUT_MS: '100' }, { connection_limits: { ...DEFAULT_LIMITS, request_timeout_ms: 100, headers_timeout_ms: 100 } }],
    ['REQUEST_TIMEOUT_MS=3600000', { REQUEST_TIMEOUT_MS: '3600000' }, { connection_limits: { ...DEFAULT_LIMITS, request_timeout_ms: 3_600_000 } }],
    ['HEADERS_TIMEOUT_MS', { HEADERS_TIMEOUT_MS: '2000' }, { connection_limits: { ...DEFAULT_LIMITS, headers_timeout_ms: 2000 } }],
    ['HEADERS_TIMEOUT_MS=REQUEST_TIMEOUT_MS', { HEADERS_TIMEOUT_MS: '30000' }, { connection_limits: { ...DEFAULT_LIMITS, headers_timeout_ms: 30_000 } }],
    ['KEEP_ALIVE_TIMEOUT_MS', { KEEP_ALIVE_TIMEOUT_MS: '65000' }, { connection_limits: { ...DEFAULT_LIMITS, keep_alive_timeout_ms: 65_000 } }],
    ['MAX_CONNECTIONS', { MAX_CONNECTIONS: '5' }, { connection_limits: { ...DEFAULT_LIMITS, max_connections: 5 } }],
    ['MAX_CONNECTIONS=1000000', { MAX_CONNECTIONS: '1000000' }, { connection_limits: { ...DEFAULT_LIMITS, max_connections: 1_000_000 } }],
    ['SHED_MAX_EVENT_LOOP_DELAY_MS', { SHED_MAX_EVENT_LOOP_DELAY_MS: '250' }, { load_shedding: { ...DEFAULT_SHEDDING, max_event_loop_delay_ms: 250 } }],
    ['SHED_MAX_EVENT_LOOP_DELAY_MS=0 (never sheds on delay)', { SHED_MAX_EVENT_LOOP_DELAY_MS: '0' }, { load_shedding: { ...DEFAULT_SHEDDING, max_event_loop_delay_ms: 0 } }],
    ['SHED_MAX_EVENT_LOOP_UTILIZATION', { SHED_MAX_EVENT_LOOP_UTILIZATION: '0.75' }, { load_shedding: { ...DEFAULT_SHEDDING, max_event_loop_utilization: 0.75 } }],
    ['SHED_MAX_EVENT_LOOP_UTILIZATION=1', { SHED_MAX_EVENT_LOOP_UTILIZATION: '1' }, { load_shedding: { ...DEFAULT_SHEDDING, max_event_loop_utilization: 1 } }],
    ['SHED_MAX_EVENT_LOOP_UTILIZATION=.5', { SHED_MAX_EVENT_LOOP_UTILIZATION: '.5' }, { load_shedding: { ...DEFAULT_SHEDDING, max_event_loop_utilization: 0.5 } }],
    ['SHED_MAX_EVENT_LOOP_UTILIZATION=0 (never sheds on utilization)', { SHED_MAX_EVENT_LOOP_UTILIZATION: '0' }, { load_shedding: { ...DEFAULT_SHEDDING, max_event_loop_utilization: 0 } }],
    ['SHED_MAX_HEAP_USED_BYTES', { SHED_MAX_HEAP_USED_BYTES: '1073741824' }, { load_shedding: { ...DEFAULT_SHEDDING, max_heap_used_bytes: 1024 ** 3 } }],
    ['SHED_MAX_HEAP_USED_BYTES=0 (never sheds on heap)', { SHED_MAX_HEAP_USED_BYTES: '0' }, { load_shedding: { ...DEFAULT_SHEDDING, max_heap_used_bytes: 0 } }],
    ['SHED_SAMPLE_INTERVAL_MS=10', { SHED_SAMPLE_INTERVAL_MS: '10' }, { load_shedding: { ...DEFAULT_SHEDDING, sample_interval_ms: 10 } }],
    ['SHED_SAMPLE_INTERVAL_MS=60000', { SHED_SAMPLE_INTERVAL_MS: '60000' }, { load_shedding: { ...DEFAULT_SHEDDING, sample_interval_ms: 60_000 } }],
    ['SHED_RETRY_AFTER_S', { SHED_RETRY_AFTER_S: '5' }, { load_shedding: { ...DEFAULT_SHEDDING, retry_after_s: 5 } }],
    ['WORKERS', { WORKERS: '4' }, { workers: 4 }],
    ['WORKERS=64', { WORKERS: '64' }, { workers: 64 }],
    ['WORKERS=auto (one per available core)', { WORKERS: 'auto' }, { workers: Math.min(usableCores(), 64) }],
    ['OFFLOAD_THREADS', { OFFLOAD_THREADS: '3' }, { offload: { ...DEFAULT_CONFIG.offload, threads: 3 } }],
    ['OFFLOAD_THREADS=0 (answers every request inline)', { OFFLOAD_THREADS: '0' }, { offload: { ...DEFAULT_CONFIG.offload, threads: 0 } }],
    ['OFFLOAD_MIN_BODY_BYTES', { OFFLOAD_MIN_BODY_BYTES: '1048576' }, { offload: { ...DEFAULT_CONFIG.offload, min_body_bytes: 1024 ** 2 } }],
    ['OFFLOAD_MIN_BODY_BYTES=0 (offloads every body)', { OFFLOAD_MIN_BODY_BYTES: '0' }, { offload: { ...DEFAULT_CONFIG.offload, min_body_bytes: 0 } }],
  ])('%s overrides its setting', (_name, env, expected) => {
    expect(loadConfig(env)).toStrictEqual({ ...DEFAULT_CONFIG, ...expected });
  });

  it('CREDIT_SCALE overrides the credit scale', () => {
    expect(loadConfig({ CREDIT_SCALE: '2' })).toStrictEqual({
      ...DEFAULT_CONFIG,
      catalog: catalogOfJust({ ...DEFAULT_SETTINGS, credit_scale: 2 }),
    });
    expect(onlySettings(loadConfig({ CREDIT_SCALE: '0' })).credit_scale).toBe(0);
    expect(onlySettings(loadConfig({ CREDIT_SCALE: '18' })).credit_scale).toBe(18);
  });

  it('MAX_ASSIGNMENTS overrides the bound and scales the default body limit', () => {
    expect(loadConfig({ MAX_ASSIGNMENTS: '100' })).toStrictEqual({
      ...DEFAULT_CONFIG,
      body_limit_bytes: 100 * 512 + 65_536,
      catalog: catalogOfJust({ ...DEFAULT_SETTINGS, max_assignments: 100 }),
    });
  });

  it('MAX_ASSIGNMENTS goes up to ASSIGNMENTS_MAX_CEILING, 1000000, and no further', () => {
    expect(ASSIGNMENTS_MAX_CEILING).toBe(1_000_000);
    expect(loadConfig({ MAX_ASSIGNMENTS: '1000000' })).toStrictEqual({
      ...DEFAULT_CONFIG,
      body_limit_bytes: 1_000_000 * 512 + 65_536,
      catalog: catalogOfJust({ ...DEFAULT_SETTINGS, max_assignments: 1_000_000 }),
    });
    expect(configError({ MAX_ASSIGNMENTS: '1000001' }).message).toBe(
      'invalid configuration in the environment: MAX_ASSIGNMENTS: must be an integer from 1 to 1000000',
    );
  });

  it('BODY_LIMIT_BYTES wins over the limit derived from MAX_ASSIGNMENTS', () => {
    expect(loadConfig({ MAX_ASSIGNMENTS: '100', BODY_LIMIT_BYTES: '4096' }).body_limit_bytes).toBe(4096);
  });

  it('treats an empty variable as unset', () => {
    const empty = {
      PORT: '',
      HOST: '',
      LOG_LEVEL: '',
      CREDIT_SCALE: '',
      MAX_ASSIGNMENTS: '',
      BODY_LIMIT_BYTES: '',
      SHUTDOWN_GRACE_MS: '',
      POLICY_FILE: '',
      BATCH_MAX_UPDATES: '',
      SIGNING_KEY_FILE: '',
      REQUEST_TIMEOUT_MS: '',
      HEADERS_TIMEOUT_MS: '',
      KEEP_ALIVE_TIMEOUT_MS: '',
      MAX_CONNECTIONS: '',
      WORKERS: '',
      OFFLOAD_THREADS: '',
      OFFLOAD_MIN_BODY_BYTES: '',
    };
    expect(loadConfig(empty)).toStrictEqual(DEFAULT_CONFIG);
  });

  it.each([
    ['PORT=abc', { PORT: 'abc' }, 'invalid configuration in the environment: PORT: must be an integer from 0 to 65535'],
    ['PORT=70000', { PORT: '70000' }, 'invalid configuration in the environment: PORT: must be an integer from 0 to 65535'],
    ['PORT=-1', { PORT: '-1' }, 'invalid configuration in the environment: PORT: must be an integer from 0 to 65535'],
    ['PORT=80.5', { PORT: '80.5' }, 'invalid configuration in the environment: PORT: must be an integer from 0 to 65535'],
    ['CREDIT_SCALE=19', { CREDIT_SCALE: '19' }, 'invalid configuration in the environment: CREDIT_SCALE: must be an integer from 0 to 18'],
    ['MAX_ASSIGNMENTS=0', { MAX_ASSIGNMENTS: '0' }, 'invalid configuration in the environment: MAX_ASSIGNMENTS: must be an integer from 1 to 1000000'],
    [
      'BODY_LIMIT_BYTES=10',
      { BODY_LIMIT_BYTES: '10' },
      'invalid configuration in the environment: BODY_LIMIT_BYTES: must be an integer from 1024 to 1073741824',
    ],
    [
      'SHUTDOWN_DRAIN_MS=600001',
      { SHUTDOWN_DRAIN_MS: '600001' },
      'invalid configuration in the environment: SHUTDOWN_DRAIN_MS: must be an integer from 0 to 600000',
    ],
    [
      'SHUTDOWN_GRACE_MS=soon',
      { SHUTDOWN_GRACE_MS: 'soon' },
      'invalid configuration in the environment: SHUTDOWN_GRACE_MS: must be an integer from 0 to 3600000',
    ],
    ['BATCH_MAX_UPDATES=0', { BATCH_MAX_UPDATES: '0' }, 'invalid configuration in the environment: BATCH_MAX_UPDATES: must be an integer from 1 to 100000'],
    [
      'BATCH_MAX_UPDATES=100001',
      { BATCH_MAX_UPDATES: '100001' },
      'invalid configuration in the environment: BATCH_MAX_UPDATES: must be an integer from 1 to 100000',
    ],
    ...['REQUEST_TIMEOUT_MS', 'HEADERS_TIMEOUT_MS', 'KEEP_ALIVE_TIMEOUT_MS'].flatMap((name) =>
      ['99', '3600001', '1.5', 'soon'].map(
        (value): [string, NodeJS.ProcessEnv, string] => [
          `${name}=${value}`,
          { [name]: value },
          `invalid configuration in the environment: ${name}: must be an integer from 100 to 3600000`,
        ],
      ),
    ),
    ['MAX_CONNECTIONS=0', { MAX_CONNECTIONS: '0' }, 'invalid configuration in the environment: MAX_CONNECTIONS: must be an integer from 1 to 1000000'],
    [
      'MAX_CONNECTIONS=1000001',
      { MAX_CONNECTIONS: '1000001' },
      'invalid configuration in the environment: MAX_CONNECTIONS: must be an integer from 1 to 1000000',
    ],
    ...(
      [
        ['SHED_MAX_EVENT_LOOP_DELAY_MS', ['3600001', '-1', 'fast'], 'from 0 to 3600000'],
        ['SHED_MAX_HEAP_USED_BYTES', ['9007199254740992', '1.5', '1e9'], 'from 0 to 9007199254740991'],
        ['SHED_SAMPLE_INTERVAL_MS', ['9', '60001'], 'from 10 to 60000'],
        ['SHED_RETRY_AFTER_S', ['0', '3601'], 'from 1 to 3600'],
        ['OFFLOAD_THREADS', ['257', '-1', '1.5', 'auto'], 'from 0 to 256'],
        ['OFFLOAD_MIN_BODY_BYTES', ['1073741825', '-1', '32k'], 'from 0 to 1073741824'],
      ] as const
    ).flatMap(([name, values, range]) =>
      values.map((value): [string, NodeJS.ProcessEnv, string] => [
        `${name}=${value}`,
        { [name]: value },
        `invalid configuration in the environment: ${name}: must be an integer ${range}`,
      ]),
    ),
    ...['1.5', '1.1', '-0.5', '90%', '9e-1', '0.1234567', 'busy', ' 0.9'].map(
      (value): [string, NodeJS.ProcessEnv, string] => [
        `SHED_MAX_EVENT_LOOP_UTILIZATION=${value}`,
        { SHED_MAX_EVENT_LOOP_UTILIZATION: value },
        'invalid configuration in the environment: SHED_MAX_EVENT_LOOP_UTILIZATION: must be a decimal from 0 to 1, such as 0.9',
      ],
    ),
    ...['0', '65', '1.5', '-2', 'AUTO', 'all'].map(
      (value): [string, NodeJS.ProcessEnv, string] => [
        `WORKERS=${value}`,
        { WORKERS: value },
        'invalid configuration in the environment: WORKERS: must be an integer from 1 to 64, or auto (one per available core, at most 64)',
      ],
    ),
    [
      'HEADERS_TIMEOUT_MS above REQUEST_TIMEOUT_MS',
      { REQUEST_TIMEOUT_MS: '5000', HEADERS_TIMEOUT_MS: '5001' },
      'invalid configuration in the environment: HEADERS_TIMEOUT_MS: must be at most REQUEST_TIMEOUT_MS (5000)',
    ],
    [
      'HEADERS_TIMEOUT_MS above the default REQUEST_TIMEOUT_MS',
      { HEADERS_TIMEOUT_MS: '30001' },
      'invalid configuration in the environment: HEADERS_TIMEOUT_MS: must be at most REQUEST_TIMEOUT_MS (30000)',
    ],
  ])('rejects %s with a message naming the variable', (_name, env, message) => {
    expect(configError(env).message).toBe(message);
  });

  it('rejects LOG_LEVEL=loud, naming the variable and the accepted levels', () => {
    const { message } = configError({ LOG_LEVEL: 'loud' });
    expect(message).toMatch(/^invalid configuration in the environment: LOG_LEVEL: /);
    for (const level of ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']) expect(message).toContain(`"${level}"`);
  });

  it('names an out-of-range timeout once, without the cross rule', () => {
    expect(configError({ REQUEST_TIMEOUT_MS: '99', HEADERS_TIMEOUT_MS: '3600001' }).message).toBe(
      'invalid configuration in the environment: REQUEST_TIMEOUT_MS: must be an integer from 100 to 3600000; HEADERS_TIMEOUT_MS: must be an integer from 100 to 3600000',
    );
  });

  it('names every bad variable in one message', () => {
    const { message } = configError({ PORT: 'abc', CREDIT_SCALE: '19', MAX_ASSIGNMENTS: '0' });
    expect(message).toContain('PORT: must be an integer from 0 to 65535');
    expect(message).toContain('CREDIT_SCALE: must be an integer from 0 to 18');
    expect(message).toContain('MAX_ASSIGNMENTS: must be an integer from 1 to 1000000');
  });
});

describe('the app built from the default configuration', () => {
  const config = loadConfig({});
  const app = useApp({ catalog: config.catalog, connection_limits: config.connection_limits });

  it('has the body limit the configuration derives', () => {
    expect(app().initialConfig.bodyLimit).toBe(config.body_limit_bytes);
  });

  it('has the connection limits of the configuration', () => {
    expect(app().initialConfig).toMatchObject({ requestTimeout: 30_000, keepAliveTimeout: 5000, connectionTimeout: 60_000 });
    expect(app().server).toMatchObject({ requestTimeout: 30_000, headersTimeout: 10_000, keepAliveTimeout: 5000, maxConnections: 10_000, timeout: 60_000 });
  });
});

describe('loadConfig: POLICY_FILE', () => {
  const directory = useTempDir('divy-config-test-');
  const policyFile = directory.writeFile;

  it('overrides the parameters it names and keeps the defaults of the others', () => {
    const path = policyFile('valid.json', JSON.stringify({ version: 'divy-credit-2', model_size_scale_gib: 16, resource_multiplier_span: 0.5 }));
    expect(loadConfig({ POLICY_FILE: path })).toStrictEqual({
      ...DEFAULT_CONFIG,
      catalog: catalogOfJust({
        parameters: { ...DEFAULT_POLICY_PARAMETERS, version: 'divy-credit-2', model_size_scale_gib: 16, resource_multiplier_span: 0.5 },
        credit_scale: 9,
        max_assignments: 10_000,
      }),
    });
  });

  it('combines with the environment settings', () => {
    const path = policyFile('combined.json', JSON.stringify({ version: 'v-combined' }));
    const config = loadConfig({ POLICY_FILE: path, CREDIT_SCALE: '4', MAX_ASSIGNMENTS: '7' });
    expect(onlySettings(config)).toStrictEqual({
      parameters: { ...DEFAULT_POLICY_PARAMETERS, version: 'v-combined' },
      credit_scale: 4,
      max_assignments: 7,
    });
  });

  it('rejects a file without a version', () => {
    const path = policyFile('no-version.json', JSON.stringify({ model_size_scale_gib: 16 }));
    const { message } = configError({ POLICY_FILE: path });
    expect(message).toBe(`invalid configuration in the POLICY_FILE ${path}: version: must be a non-empty string`);
  });

  it('rejects an empty version', () => {
    const path = policyFile('empty-version.json', JSON.stringify({ version: '' }));
    const { message } = configError({ POLICY_FILE: path });
    expect(message).toBe(`invalid configuration in the POLICY_FILE ${path}: version: must be a non-empty string`);
  });

  it('rejects an unknown key, naming it', () => {
    const path = policyFile('unknown-key.json', JSON.stringify({ version: 'x', model_size_scale: 16 }));
    expect(configError({ POLICY_FILE: path }).message).toBe(
      `invalid configuration in the POLICY_FILE ${path}: (root): Unrecognized key: "model_size_scale"`,
    );
  });

  it('rejects a parameter of the wrong type, naming it', () => {
    const path = policyFile('wrong-type.json', JSON.stringify({ version: 'x', model_size_scale_gib: '16' }));
    expect(configError({ POLICY_FILE: path }).message).toBe(
      `invalid configuration in the POLICY_FILE ${path}: model_size_scale_gib: must be a number from 9.313225746154785e-10 to 4194304`,
    );
  });

  it('rejects a file that is not an object', () => {
    const path = policyFile('list.json', '[]');
    expect(configError({ POLICY_FILE: path }).message).toBe(
      `invalid configuration in the POLICY_FILE ${path}: (root): Invalid input: expected object, received array`,
    );
  });

  it('rejects a file that is not JSON', () => {
    const path = policyFile('bad.json', '{ version: "x" ');
    const { message } = configError({ POLICY_FILE: path });
    const prefix = `POLICY_FILE ${path} is not valid JSON: `;
    expect(message.slice(0, prefix.length)).toBe(prefix);
    expect(message.length).toBeGreaterThan(prefix.length);
  });

  it('rejects a path that does not exist', () => {
    const path = directory.path('does-not-exist.json');
    const { message } = configError({ POLICY_FILE: path });
    expect(message).toBe(`POLICY_FILE ${path} cannot be read: ENOENT: no such file or directory, open '${path}'`);
  });

  it('rejects parameters that make no sense together', () => {
    const path = policyFile('inverted.json', JSON.stringify({ version: 'x', throughput_multiplier_min: 2, throughput_multiplier_max: 1 }));
    expect(configError({ POLICY_FILE: path }).message).toBe(
      `invalid policy settings from POLICY_FILE ${path} with CREDIT_SCALE and MAX_ASSIGNMENTS: throughput_multiplier_min must be at most throughput_multiplier_max`,
    );
  });

  it('rejects a model size scale that is not a whole number of bytes', () => {
    // 1.5e-9 GiB is within the range (from one byte, 2^-30 GiB) but is 1.61 bytes.
    const path = policyFile('scale.json', JSON.stringify({ version: 'x', model_size_scale_gib: 1.5e-9 }));
    expect(configError({ POLICY_FILE: path }).message).toBe(
      `invalid policy settings from POLICY_FILE ${path} with CREDIT_SCALE and MAX_ASSIGNMENTS: model_size_scale_gib must be a whole number of bytes (GiB = 2^30 bytes)`,
    );
  });

  it('accepts a model size scale of one byte, and every parameter at either end of its range', () => {
    const oneByte = policyFile('one-byte.json', JSON.stringify({ version: 'x', model_size_scale_gib: 2 ** -30 }));
    expect(onlySettings(loadConfig({ POLICY_FILE: oneByte })).parameters.model_size_scale_gib).toBe(2 ** -30);
    const low = {
      version: 'low',
      model_size_scale_gib: 2 ** -30,
      min_execution_time_secs: 1e-9,
      reference_service_rate_min: 0,
      throughput_multiplier_min: 1e-6,
      throughput_multiplier_max: 1e-6,
      resource_multiplier_base: 1e-6,
      resource_multiplier_span: 0,
    };
    const high = {
      version: 'high',
      model_size_scale_gib: 4_194_304,
      min_execution_time_secs: 1e6,
      reference_service_rate_min: 1,
      throughput_multiplier_min: 1e6,
      throughput_multiplier_max: 1e6,
      resource_multiplier_base: 1e6,
      resource_multiplier_span: 1e6,
    };
    for (const parameters of [low, high]) {
      const path = policyFile(`${parameters.version}.json`, JSON.stringify(parameters));
      expect(onlySettings(loadConfig({ POLICY_FILE: path })).parameters).toStrictEqual(parameters);
    }
  });

  /** A value just outside each end of every parameter's range, and the message that refuses it. */
  const OUT_OF_RANGE: [string, number, string][] = [
    ['model_size_scale_gib', 0, 'must be a number from 9.313225746154785e-10 to 4194304'],
    ['model_size_scale_gib', 2 ** 22 + 1, 'must be a number from 9.313225746154785e-10 to 4194304'],
    ['min_execution_time_secs', 0, 'must be a number from 1e-9 to 1000000'],
    ['min_execution_time_secs', 1e6 + 1, 'must be a number from 1e-9 to 1000000'],
    ['reference_service_rate_min', -1e-300, 'must be a number from 0 to 1'],
    ['reference_service_rate_min', 1.5, 'must be a number from 0 to 1'],
    ['throughput_multiplier_min', 5e-7, 'must be a number from 0.000001 to 1000000'],
    ['throughput_multiplier_min', 2e6, 'must be a number from 0.000001 to 1000000'],
    ['throughput_multiplier_max', 0, 'must be a number from 0.000001 to 1000000'],
    ['throughput_multiplier_max', 2e6, 'must be a number from 0.000001 to 1000000'],
    ['resource_multiplier_base', 0, 'must be a number from 0.000001 to 1000000'],
    ['resource_multiplier_base', 2e6, 'must be a number from 0.000001 to 1000000'],
    ['resource_multiplier_span', -0.1, 'must be a number from 0 to 1000000'],
    ['resource_multiplier_span', 2e6, 'must be a number from 0 to 1000000'],
  ];

  it('the out-of-range cases cover both ends of every parameter', () => {
    expect(OUT_OF_RANGE.map(([name]) => name)).toEqual(PARAMETER_NAMES.flatMap((name) => [name, name]));
  });

  it.each(OUT_OF_RANGE)('rejects %s = %s, naming the field and its bound', (name, value, rule) => {
    const path = policyFile(`range-${name}-${value}.json`, JSON.stringify({ version: 'x', [name]: value }));
    expect(configError({ POLICY_FILE: path }).message).toBe(`invalid configuration in the POLICY_FILE ${path}: ${name}: ${rule}`);
  });

  it('rejects a number JSON reads as infinite, naming the field', () => {
    const path = policyFile('infinite.json', '{"version":"x","throughput_multiplier_max":1e400}');
    expect(configError({ POLICY_FILE: path }).message).toBe(
      `invalid configuration in the POLICY_FILE ${path}: throughput_multiplier_max: must be a number from 0.000001 to 1000000`,
    );
  });

  it('names every out-of-range parameter in one message', () => {
    const path = policyFile('two-bad.json', JSON.stringify({ version: 'x', reference_service_rate_min: 2, resource_multiplier_span: -1 }));
    expect(configError({ POLICY_FILE: path }).message).toBe(
      `invalid configuration in the POLICY_FILE ${path}: reference_service_rate_min: must be a number from 0 to 1; resource_multiplier_span: must be a number from 0 to 1000000`,
    );
  });

  describe('reference_service_rate_min from the file', () => {
    /** Both workers of the README example, run for 10^4 s: rates 4e-4 and 2e-4, median 3e-4. */
    const slowJob: ContributionInput = {
      ...CONTRIBUTION_EXAMPLE,
      assignments: CONTRIBUTION_EXAMPLE.assignments.map((assignment) => ({ ...assignment, execution_time_ms: 10_000_000 })),
    };
    let config: Config;
    const floored = useApp(() => {
      config = loadConfig({ POLICY_FILE: policyFile('floor.json', JSON.stringify({ version: 'floor-1', reference_service_rate_min: 0.001 })) });
      return { catalog: config.catalog };
    });
    const unfloored = useApp();

    it('is read into the settings, beside the defaults of the others', () => {
      expect(onlySettings(config).parameters).toStrictEqual({ ...DEFAULT_POLICY_PARAMETERS, version: 'floor-1', reference_service_rate_min: 0.001 });
    });

    it('shows in GET /policy', async () => {
      const response = await floored().inject({ method: 'GET', url: '/policy' });
      expect(response.statusCode).toBe(200);
      const parameters = {
        model_size_scale_gib: 32,
        min_execution_time_secs: 0.001,
        reference_service_rate_min: 0.001,
        throughput_multiplier_min: 0.5,
        throughput_multiplier_max: 1.5,
        resource_multiplier_base: 0.85,
        resource_multiplier_span: 0.3,
      };
      expect(response.json()).toStrictEqual({
        policy_version: 'floor-1',
        credit_scale: 9,
        max_assignments: 10_000,
        parameters,
        policies: [{ policy_version: 'floor-1', current: true, parameters }],
      });
    });

    it('is the reference_service_rate of a job whose median rate lies below it', async () => {
      const response = await postJson(floored(), '/contribution', slowJob);
      expect(response.statusCode, response.body).toBe(200);
      const body = response.json<Contribution>();
      expect(body).toEqual(computeContribution(slowJob, onlySettings(config)));
      expect(body.policy_version).toBe('floor-1');
      expect(body.assignments.map((worker) => worker.reference_service_rate)).toEqual([0.001, 0.001]);
      expect(body.assignments.map((worker) => worker.measured_service_rate)).toEqual([4e-4, 2e-4]);
      // Against the floor both workers are slow, clamped to 0.5, so they earn by compute share: 2 : 1.
      expect(body.assignments.map((worker) => worker.throughput_multiplier)).toEqual([0.5, 0.5]);
      expect(body.assignments.map((worker) => worker.credits)).toEqual(['410.666666667', '205.333333333']);
    });

    it('changes the answer: under the default floor the same job is split against its median', async () => {
      const response = await postJson(unfloored(), '/contribution', slowJob);
      expect(response.statusCode, response.body).toBe(200);
      const body = response.json<Contribution>();
      const median = (4e-4 + 2e-4) / 2;
      expect(body.assignments.map((worker) => worker.reference_service_rate)).toEqual([median, median]);
      expect(body.assignments.map((worker) => worker.credits)).toEqual(['492.800000000', '123.200000000']);
    });
  });
});

describe('loadConfig: SIGNING_KEY_FILE', () => {
  const directory = useTempDir('divy-signing-key-test-');
  const keyFile = directory.writeFile;

  const MAKE_KEY = 'openssl genpkey -algorithm ed25519 -out key.pem';

  it('is unset by default: nothing is signed', () => {
    expect(loadConfig({}).signing_key).toBeUndefined();
  });

  it('reads an Ed25519 private key in PEM', () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' });
    const key = loadConfig({ SIGNING_KEY_FILE: keyFile('ed25519.pem', pem) }).signing_key;
    expect(key?.asymmetricKeyType).toBe('ed25519');
    expect(key?.type).toBe('private');
    expect(key?.equals(privateKey)).toBe(true);
  });

  it('refuses a file that does not exist, naming it', () => {
    const path = directory.path('missing.pem');
    expect(configError({ SIGNING_KEY_FILE: path }).message).toBe(
      `SIGNING_KEY_FILE ${path} cannot be read: ENOENT: no such file or directory, open '${path}'`,
    );
  });

  it.each([
    ['text that is not PEM', 'text.pem', 'not a key\n'],
    ['a public key', 'public.pem', generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' })],
  ])('refuses %s, naming the variable and how to make a key', (_description, name, content) => {
    const path = keyFile(name, content);
    const { message } = configError({ SIGNING_KEY_FILE: path });
    const prefix = `SIGNING_KEY_FILE ${path} is not a PEM private key (${MAKE_KEY} makes one): `;
    expect(message.slice(0, prefix.length)).toBe(prefix);
    expect(message.length).toBeGreaterThan(prefix.length);
  });

  it('refuses an RSA key: answers are signed with Ed25519 only', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const path = keyFile('rsa.pem', privateKey.export({ type: 'pkcs8', format: 'pem' }));
    expect(configError({ SIGNING_KEY_FILE: path }).message).toBe(
      `SIGNING_KEY_FILE ${path} holds a key of type rsa; answers are signed with Ed25519 only (${MAKE_KEY} makes one)`,
    );
  });
});

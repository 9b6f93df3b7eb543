/** Reads the configuration, listens, and shuts down gracefully on SIGTERM or SIGINT. */
import closeWithGrace from 'close-with-grace';
import { buildApp } from './app.js';
import { logAuthMode } from './http/auth.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { createLogger } from './logger.js';
import { settingsFor } from './policy/index.js';

function readConfig(): Config {
  try {
    return loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`divy: ${error.message}\n`);
    process.exit(1);
  }
}

const config = readConfig();
const logger = createLogger(config.log_level);
const app = await buildApp({
  catalog: config.catalog,
  logger,
  body_limit_bytes: config.body_limit_bytes,
  batch_max_updates: config.batch_max_updates,
  signing_key: config.signing_key,
  connection_limits: config.connection_limits,
  auth_tokens: config.auth_tokens,
  rate_limit_per_min: config.rate_limit_per_min,
});
logAuthMode(logger, config.auth_tokens);

closeWithGrace({ delay: config.shutdown_grace_ms, logger: { error: (message: string) => logger.error(message) } }, async ({ signal, err }) => {
  if (err) logger.error({ err }, 'closing after an uncaught error');
  else logger.info({ signal }, 'shutting down: finishing in-flight requests');
  await app.close();
});

await app.listen({ port: config.port, host: config.host });
const current = settingsFor(config.catalog, undefined);
logger.info({ policy_version: current.parameters.version, policy_versions: [...config.catalog.policies.keys()], credit_scale: current.credit_scale }, 'ready');

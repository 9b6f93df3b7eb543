/**
 * Reads the configuration, listens, and shuts down gracefully on SIGTERM or SIGINT. With WORKERS
 * above 1 this process is the cluster primary (src/cluster.ts), and each worker it forks runs this
 * file again to serve.
 */
import cluster from 'node:cluster';
import closeWithGrace from 'close-with-grace';
import type { Logger } from 'pino';
import { buildApp, markNotReady } from './app.js';
import { runPrimary, SHUTDOWN_HANG_MARGIN_MS } from './cluster.js';
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
if (config.workers > 1 && cluster.isPrimary) runPrimary(config, logger);
else await serve(config, logger);

async function serve(config: Config, logger: Logger): Promise<void> {
  const app = await buildApp({
    catalog: config.catalog,
    logger,
    body_limit_bytes: config.body_limit_bytes,
    batch_max_updates: config.batch_max_updates,
    signing_key: config.signing_key,
    connection_limits: config.connection_limits,
    auth_tokens: config.auth_tokens,
    rate_limit_per_min: config.rate_limit_per_min,
    load_shedding: config.load_shedding,
    offload: config.offload,
  });
  logAuthMode(logger, config.auth_tokens);

  const { shutdown_drain_ms, shutdown_grace_ms } = config;

  /**
   * Closes the listener and lets in-flight requests finish (idle kept-alive connections are closed
   * at once); after `graceMs` the connections still open, such as a client that never finishes its
   * body, are destroyed, so the close ends and the exit stays clean.
   */
  async function closeWithin(graceMs: number): Promise<void> {
    const timer = setTimeout(() => {
      logger.warn({ shutdown_grace_ms: graceMs }, 'grace period over: closing the connections still open');
      app.server.closeAllConnections();
    }, graceMs);
    try {
      await app.close();
    } finally {
      clearTimeout(timer);
    }
  }

  // close-with-grace's own timer only catches a close that hangs even after every connection is
  // destroyed (then it exits 1); the drain and the grace period end in a clean exit 0.
  closeWithGrace(
    {
      delay: shutdown_drain_ms + shutdown_grace_ms + SHUTDOWN_HANG_MARGIN_MS,
      logger: { error: (message: string) => logger.error(message) },
      // A worker hears Ctrl-C from the terminal and SIGTERM from its primary at once; the primary
      // alone answers a second signal, by killing every worker.
      ...(cluster.isWorker ? { onSecondSignal: (signal: string) => logger.warn({ signal }, 'already shutting down') } : {}),
    },
    async ({ signal, err }) => {
      markNotReady(app);
      if (err) {
        // No drain: a process in an unknown state should stop taking traffic at once. It exits 1.
        logger.error({ err }, 'closing after an uncaught error');
        await closeWithin(shutdown_grace_ms);
        return;
      }
      logger.info({ signal, shutdown_drain_ms }, 'shutting down: not ready, draining before the listener closes');
      if (shutdown_drain_ms > 0) await new Promise((resolve) => setTimeout(resolve, shutdown_drain_ms));
      logger.info({ signal, shutdown_grace_ms }, 'shutting down: closing the listener, finishing in-flight requests');
      await closeWithin(shutdown_grace_ms);
    },
  );

  await app.listen({ port: config.port, host: config.host });
  const current = settingsFor(config.catalog, undefined);
  logger.info(
    { policy_version: current.parameters.version, policy_versions: [...config.catalog.policies.keys()], credit_scale: current.credit_scale, node_version: process.version },
    'ready',
  );
}

import { ConfigError, loadConfig, type Config } from './config/env.ts';
import { createLogger } from './observability/logger.ts';
import type { Running } from './startup/instance.ts';
import { secretsOf, redact } from './config/secrets.ts';
import { StartupError } from './startup/errors.ts';
import { checkBeforeStart, databaseFailure, listenFailure } from './startup/checks.ts';
import { onParentExit } from './startup/parent.ts';

let config: Config;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}

const logger = createLogger({ level: config.LOG_LEVEL, instanceId: config.INSTANCE_ID });
const running: Running = {};

/** Ordered and idempotent: the hub drains first, then the database it used goes away. */
let shuttingDown: Promise<void> | undefined;
function shutdown(reason: string, exitCode: number): Promise<void> {
  shuttingDown ??= (async () => {
    logger.info({ reason }, 'shutting down');
    const force = setTimeout(() => {
      logger.error('shutdown took longer than 15 s; exiting');
      process.exit(1);
    }, 15_000);
    force.unref();
    // A shutdown waits for start-up, so nothing it starts is left running; its failure is reported where it is awaited.
    await Promise.allSettled([starting]);
    try {
      await running.hub?.stop();
    } finally {
      running.stopOplogTrim?.();
      await running.embedded?.stop();
    }
    // Standard input is only read to notice a parent going away; it must not keep a stopped process alive.
    process.stdin.destroy();
    logger.info('stopped');
    process.exitCode = exitCode;
    // Everything is stopped: a timer or connection some library left behind must not keep the process alive.
    setTimeout(() => {
      logger.warn({ resources: process.getActiveResourcesInfo() }, 'still running a second after stopping; exiting');
      process.exit(exitCode);
    }, 1_000).unref();
  })();
  return shuttingDown;
}

// `on`, not `once`: under `npm start`, Ctrl-C reaches the hub twice (from the terminal and passed on
// by npm), and a second signal must not kill it halfway through its ordered shutdown.
process.on('SIGINT', () => void shutdown('SIGINT', 0));
process.on('SIGTERM', () => void shutdown('SIGTERM', 0));
if (config.EXIT_ON_STDIN_CLOSE) {
  process.stdin.on('end', () => void shutdown('standard input closed', 0));
  process.stdin.resume();
}
// npm sets npm_lifecycle_event for the script it runs: under `npm start`, npm is the parent the hub goes with.
if (process.env.npm_lifecycle_event === 'start') onParentExit(() => void shutdown('its parent (npm start) exited', 0));

/** Prints a failure the user can fix as its one line, anything else as a fatal log with its stack; never a secret. */
function reportStartupFailure(error: unknown): void {
  const known =
    error instanceof StartupError
      ? error
      : (listenFailure(error, config.PORT, config.HOST) ?? (config.MONGODB_URI && !running.embedded ? databaseFailure(error, config.MONGODB_URI) : undefined));
  const secrets = secretsOf(config);
  if (known) console.error(redact(known.message, secrets));
  else if (error instanceof Error) {
    logger.fatal({ err: { type: error.name, message: redact(error.message, secrets), stack: redact(error.stack ?? '', secrets) } }, 'start-up failed');
  } else logger.fatal({ err: redact(String(error), secrets) }, 'start-up failed');
}

async function start(): Promise<void> {
  // Before anything starts, so a taken port, a silent MONGODB_URI or a missing Java fail in seconds, in one line.
  await checkBeforeStart(config);
  // Loaded only now: the hub's modules take seconds to load on a busy machine, which a failed check need not wait for.
  const { startInstance } = await import('./startup/instance.ts');
  await startInstance(config, logger, running);
}

// Declared here, used by shutdown: no signal handler runs before this line (nothing above awaits).
const starting = start();
try {
  await starting;
} catch (error) {
  reportStartupFailure(error);
  if (running.embedded || shuttingDown) await shutdown('start-up failed', 1);
  // A startHub that failed halfway holds connections nothing can reach to close; they must not keep the process alive.
  process.exit(1);
}

import { ConfigError, loadConfig, type Config } from './config/env.ts';
import { createLogger } from './observability/logger.ts';
import { startHub, type Hub } from './hub.ts';
import { startWireServer, type WireServer } from './devservices/wire-server.ts';
import { withDatabase } from './devservices/services.ts';
import { clearOplog, keepOplogFor } from './devservices/oplog.ts';
import { seedDemoData } from './db/seed.ts';
import { connectDatabase } from './db/connect.ts';
import { simulateBookings } from './demo/simulate.ts';
import { createPageHandler } from './http/page.ts';
import { todayIn } from '@slotcast/shared';

let config: Config;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}

/** History the embedded database keeps for resuming the change feed, like a small capped oplog. */
const EMBEDDED_OPLOG_RETENTION_MS = 10 * 60_000;

const logger = createLogger({ level: config.LOG_LEVEL, instanceId: config.INSTANCE_ID });
let embedded: WireServer | undefined;
let stopOplogTrim: (() => void) | undefined;
let hub: Hub | undefined;

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
    try {
      await hub?.stop();
    } finally {
      stopOplogTrim?.();
      await embedded?.stop();
    }
    // Standard input is only read to notice a parent going away; it must not keep a stopped process alive.
    process.stdin.destroy();
    logger.info('stopped');
    process.exitCode = exitCode;
  })();
  return shuttingDown;
}

process.once('SIGINT', () => void shutdown('SIGINT', 0));
process.once('SIGTERM', () => void shutdown('SIGTERM', 0));
if (config.EXIT_ON_STDIN_CLOSE) {
  process.stdin.on('end', () => void shutdown('standard input closed', 0));
  process.stdin.resume();
}

try {
  if (!config.MONGODB_URI) {
    embedded = await startWireServer();
    const uri = withDatabase(embedded.uri, 'slotcast');
    config = { ...config, MONGODB_URI: uri };
    logger.info({ pid: embedded.pid, uri }, 'embedded development database started (in memory)');
    if (config.SEED_DEMO) {
      // Seeded before the hub listens, so the first visitor sees the schedule, not numbers still arriving.
      const seeding = await connectDatabase(uri);
      try {
        logger.info(await seedDemoData(seeding.models, { timeZone: config.TIMEZONE }), 'demo data seeded');
      } finally {
        await seeding.close();
      }
      // Nothing watches yet: the seed's thousands of entries would only slow every change-stream pull.
      await clearOplog(embedded.uri);
    }
    stopOplogTrim = keepOplogFor(embedded.uri, EMBEDDED_OPLOG_RETENTION_MS, (error) => logger.warn({ err: error }, 'could not trim the embedded oplog'));
  }
  const database = () => hub!.database.models;
  hub = await startHub(config, logger, {
    page: createPageHandler({
      today: () => todayIn(config.TIMEZONE),
      // Only the embedded development database gets the button that writes bookings.
      simulate: embedded ? (date) => simulateBookings(database(), date) : undefined,
      logger,
    }),
  });
  if (!config.JWT_SECRET) {
    const token = await hub.tokens.sign({ sub: 'demo-admin', roles: ['staff', 'admin'] });
    logger.warn({ token }, 'JWT_SECRET is not set: using a random secret for this run; sample staff+admin token attached');
  }
  logger.info(
    { url: hub.url, port: hub.port, mode: config.REDIS_URL ? 'multi-instance' : 'single-instance' },
    `slotcast is listening: demo page ${hub.url}/ , tRPC ${hub.url}/trpc , health ${hub.url}/readyz , metrics ${hub.url}/metrics`,
  );
} catch (error) {
  logger.fatal({ err: error }, 'start-up failed');
  await shutdown('start-up failed', 1);
}

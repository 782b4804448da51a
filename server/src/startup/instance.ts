import type { Config } from '../config/env.ts';
import type { Logger } from '../observability/logger.ts';
import { startHub, type Hub } from '../hub.ts';
import { startWireServer, type WireServer } from '../devservices/wire-server.ts';
import { withDatabase } from '../devservices/services.ts';
import { clearOplog, keepOplogFor } from '../devservices/oplog.ts';
import { seedDemoData } from '../db/seed.ts';
import { connectDatabase } from '../db/connect.ts';
import { simulateBurst } from '../demo/burst.ts';
import { createPageHandler } from '../http/page.ts';
import { todayIn } from '@slotcast/shared';

/** History the embedded database keeps for resuming the change feed, like a small capped oplog. */
const EMBEDDED_OPLOG_RETENTION_MS = 10 * 60_000;

/** What start-up has started so far, filled in as it goes, so a shutdown stops exactly that, even halfway. */
export interface Running {
  embedded?: WireServer;
  stopOplogTrim?: () => void;
  hub?: Hub;
}

/** `npm start`'s instance: the embedded, seeded database when MONGODB_URI is unset, then the hub. */
export async function startInstance(given: Config, logger: Logger, running: Running): Promise<void> {
  let config = given;
  if (!config.MONGODB_URI) {
    const embedded = (running.embedded = await startWireServer());
    const uri = withDatabase(embedded.uri, 'slotcast');
    config = { ...config, MONGODB_URI: uri };
    logger.info({ pid: embedded.pid, uri }, 'embedded development database started (in memory)');
    // The demo data is written with the default names: under SCHEMA_FILE the hub would not read it.
    if (config.SCHEMA_FILE) logger.info('SCHEMA_FILE is set: no demo data is seeded (it is written with the default names)');
    if (config.SEED_DEMO && !config.SCHEMA_FILE) {
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
    running.stopOplogTrim = keepOplogFor(embedded.uri, EMBEDDED_OPLOG_RETENTION_MS, (error) => logger.warn({ err: error }, 'could not trim the embedded oplog'));
  }
  const database = () => running.hub!.database.models;
  const hub = (running.hub = await startHub(config, logger, {
    page: createPageHandler({
      today: () => todayIn(config.TIMEZONE),
      // Only the embedded development database gets the button that writes bookings.
      simulate: running.embedded && !config.SCHEMA_FILE ? (date) => simulateBurst(database(), date) : undefined,
      // Demo users sign in without a password, so only against the embedded database too.
      demoToken: running.embedded ? (user, staff) => running.hub!.tokens.sign({ sub: user, roles: staff ? ['staff'] : [] }, '12h') : undefined,
      logger,
    }),
  }));
  if (!config.JWT_SECRET) {
    const token = await hub.tokens.sign({ sub: 'demo-admin', roles: ['staff', 'admin'] });
    logger.warn({ token }, 'JWT_SECRET is not set: using a random secret for this run; sample staff+admin token attached');
  }
  logger.info(
    { url: hub.url, port: hub.port, mode: config.REDIS_URL ? 'multi-instance' : 'single-instance' },
    `slotcast is listening: demo page ${hub.url}/ , tRPC ${hub.url}/trpc , health ${hub.url}/readyz , metrics ${hub.url}/metrics`,
  );
}

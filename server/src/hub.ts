import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RESYNC_REASON } from '@slotcast/shared';
import type { Config } from './config/env.ts';
import { connectDatabase, type Database } from './db/connect.ts';
import { createHttpHandler, type RequestHandler } from './http/routes.ts';
import { applyCors } from './http/cors.ts';
import { createMetrics, type Metrics } from './observability/metrics.ts';
import type { Logger } from './observability/logger.ts';
import { createServices, type Services } from './services.ts';
import type { HubSeams } from './seams.ts';
import { AvailabilityReader } from './availability/reader.ts';
import { SessionCatalog } from './availability/catalog.ts';
import { VersionedCompute } from './availability/compute.ts';
import { AlertRules } from './availability/alerts.ts';
import { AvailabilityReads } from './availability/reads.ts';
import { AvailabilityWrites } from './availability/writes.ts';
import { routedBroadcaster } from './broadcast/routed-broadcaster.ts';
import { Tokens } from './auth/tokens.ts';
import { createTrpcHandler } from './api/handler.ts';
import { apiLimits } from './api/limits.ts';
import { createRealtime, type Realtime } from './realtime/realtime.ts';
import { ChangeFeed } from './feed/feed.ts';
import { CapacityLedger } from './guard/ledger.ts';
import { IdempotentCalls } from './guard/idempotency.ts';
import { capacityReader, placesReader } from './guard/places.ts';
import { Holds } from './guard/holds.ts';
import { Bookings } from './guard/bookings.ts';
import { HoldSweeper } from './guard/sweeper.ts';
import { Waitlist } from './guard/waitlist.ts';
import type { ApiServices } from './api/context.ts';
import { Misfits } from './schema/misfits.ts';

export interface HubOptions {
  /** Serves the demo page and its assets. */
  page?: RequestHandler;
  /** Tests and benchmarks only (see seams.ts). */
  seams?: HubSeams;
}

export interface Hub {
  readonly server: Server;
  readonly database: Database;
  /** What the API and sockets read. */
  readonly reads: AvailabilityReads;
  /** What the change feed calls after MongoDB changed. */
  readonly writes: AvailabilityWrites;
  readonly services: Services;
  readonly realtime: Realtime;
  readonly feed: ChangeFeed | undefined;
  /** What the tRPC procedures are given (holds and guarded bookings among them). */
  readonly api: ApiServices;
  readonly tokens: Tokens;
  readonly metrics: Metrics;
  readonly port: number;
  readonly url: string;
  /** Ordered: gives up the lease, drains sockets and requests, then closes Redis and MongoDB. Safe to call twice. */
  stop(): Promise<void>;
}

/** How long open requests and streams get to finish when the hub stops. */
const DRAIN_MS = 3_000;

/**
 * Builds and starts one hub instance from a validated config; needs MONGODB_URI to be set.
 * Data flows one way: feed → write side → broadcaster → sockets and event log; the read side
 * serves the API and the sockets' snapshots.
 */
export async function startHub(config: Config, logger: Logger, options: HubOptions = {}): Promise<Hub> {
  if (!config.MONGODB_URI) throw new Error('startHub needs MONGODB_URI; main.ts starts the embedded database');
  const seams = options.seams ?? {};
  const metrics = createMetrics(config.INSTANCE_ID);
  const misfits = new Misfits(metrics.misfitDocuments, logger);
  // SCHEMA_FILE was read and validated with the configuration; from here on only the mapping knows collection and field names.
  const database = await connectDatabase(config.MONGODB_URI, { logger, schema: config.SCHEMA_FILE, timeZone: config.TIMEZONE, misfits });
  const services = createServices(config, logger);
  await services.events.ready();

  const server = createServer();
  const tokens = new Tokens(config.JWT_SECRET ?? Tokens.randomSecret());
  const reader = new AvailabilityReader(database.models, database.documents);
  const cache = seams.snapshotCache?.(services.stores.cache) ?? services.stores.cache;
  const catalog = new SessionCatalog(reader, services.stores.epoch);
  const compute = new VersionedCompute(catalog, reader, services.stores.versions, config.LOW_AVAILABILITY_RATIO, metrics);
  const alerts = new AlertRules(reader, services.stores, {
    lowRatio: config.LOW_AVAILABILITY_RATIO,
    highDemandBookings: config.HIGH_DEMAND_BOOKINGS,
    highDemandWindowMs: config.HIGH_DEMAND_WINDOW_MINUTES * 60_000,
  });
  const reads = new AvailabilityReads({ catalog, compute, cache, reader, alerts, timeZone: config.TIMEZONE, metrics });
  const realtime = createRealtime({
    server,
    reads,
    tokens,
    corsOrigins: config.CORS_ORIGINS,
    adapter: services.pubsub?.adapter,
    broadcast: services.pubsub?.broadcast,
    subscribed: services.pubsub?.subscribed,
    logger,
    metrics,
    maxQueuedBytes: config.SOCKET_MAX_QUEUED_BYTES,
  });
  // Sockets first: the event log (for SSE resumes) is a Redis round trip they need not wait for.
  const broadcaster = routedBroadcaster((keys) => reader.holdersOf(keys), [(routed) => realtime.emit(routed), (routed) => services.events.append(routed)]);
  const writes = new AvailabilityWrites({
    catalog,
    compute,
    cache,
    alerts,
    broadcaster: seams.broadcaster?.(broadcaster) ?? broadcaster,
    today: () => reads.today(),
  });

  // The guard: every place the hub admits goes through the ledger (guard/ledger.ts); MongoDB is its only store.
  const ledger = new CapacityLedger(database.models, placesReader(catalog, reader), logger);
  const guardParts = {
    models: database.models,
    documents: database.documents,
    catalog,
    reads,
    ledger,
    idempotent: new IdempotentCalls(database.models),
    capacityOf: capacityReader(catalog, reader),
    options: { holdTtlSeconds: config.HOLD_TTL_SECONDS, holdMaxTtlSeconds: config.HOLD_MAX_TTL_SECONDS },
  };
  const waitlist = new Waitlist({ ...guardParts, offerSeconds: config.WAITLIST_OFFER_SECONDS, logger });
  const holds = new Holds(guardParts, waitlist);
  const bookings = new Bookings(guardParts, holds, waitlist);
  const sweeper = new HoldSweeper({ models: database.models, holds, ledger, waitlist, isLeader: () => services.lease.isHeld(), logger });

  const feed =
    seams.changeFeed === false
      ? undefined
      : new ChangeFeed({
          models: database.models,
          documents: database.documents,
          writes,
          guard: waitlist,
          lease: services.lease,
          resumeTokens: services.resumeTokens,
          bookingKeys: services.bookingKeys,
          overrideKeys: services.overrideKeys,
          coalesceMs: config.COALESCE_MS,
          horizonDays: config.FEED_HORIZON_DAYS,
          timeZone: config.TIMEZONE,
          mode: config.FEED_MODE,
          pollIntervalMs: config.POLL_INTERVAL_MS,
          logger,
          metrics,
        });
  // After an outage, broadcasts may have been lost: sockets re-read their snapshots and the leader recomputes.
  services.onRecovered(() => {
    realtime.resyncLocal(RESYNC_REASON.REDIS_RECOVERED);
    feed?.requestResync('redis recovered');
  });

  const api: ApiServices = { reads, refresh: (scope) => writes.refresh(scope), holds, bookings, waitlist, events: services.events, tokens };
  const trpc = createTrpcHandler(
    api,
    logger,
    { fast: seams.fastQueries, metrics, limits: apiLimits(config) },
  );
  // Not ready while this instance leads and its change feed is stalled (feed/liveness.ts).
  const isReady = async () => (await Promise.all([database.ping(), services.answers()])).every(Boolean) && (feed?.healthy() ?? true);
  const handler = createHttpHandler({
    metrics,
    isReady,
    page: options.page,
    mounts: {
      '/trpc': (req, res) => {
        if (!applyCors(req, res, config.CORS_ORIGINS)) return trpc(req, res);
      },
    },
  });
  server.on('request', (req, res) => {
    // Socket.IO answers its own path; this handler must leave those requests alone.
    if (req.url?.startsWith('/socket.io/')) return;
    Promise.resolve(handler(req, res)).catch((error: unknown) => {
      logger.error({ err: error, url: req.url }, 'request failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end('{"error":"INTERNAL"}');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.PORT, config.HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  feed?.start();
  sweeper.start();
  const { port } = server.address() as AddressInfo;
  const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? 'localhost' : config.HOST;

  let stopping: Promise<void> | undefined;
  return {
    server,
    database,
    reads,
    writes,
    services,
    realtime,
    feed,
    api,
    tokens,
    metrics,
    port,
    url: `http://${host}:${port}`,
    stop() {
      stopping ??= (async () => {
        await sweeper.stop();
        await feed?.stop();
        // io.close() disconnects every socket and closes the HTTP server; idle keep-alive connections go now, busy ones after the drain.
        const closed = realtime.close();
        server.closeIdleConnections();
        const drain = setTimeout(() => server.closeAllConnections(), DRAIN_MS);
        await closed;
        clearTimeout(drain);
        await services.close();
        await database.close();
      })();
      return stopping;
    },
  };
}

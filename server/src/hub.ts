import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RESYNC_REASON } from '@slotcast/shared';
import type { Config } from './config/env.ts';
import { connectDatabase, type Database } from './db/connect.ts';
import { createHttpHandler, type RequestHandler } from './http/routes.ts';
import { applyCors } from './http/cors.ts';
import { createMetrics, type Metrics } from './observability/metrics.ts';
import type { Logger } from './observability/logger.ts';
import { createClusterServices, type ClusterServices } from './cluster/services.ts';
import { AvailabilityReader } from './availability/reader.ts';
import { AvailabilityEngine } from './availability/engine.ts';
import type { EventLog } from './broadcast/event-log.ts';
import { routedBroadcaster } from './broadcast/routed-broadcaster.ts';
import { fanOut, type Broadcaster } from './broadcast/port.ts';
import { Tokens } from './auth/tokens.ts';
import { createTrpcHandler } from './api/handler.ts';
import { createRealtime, type Realtime } from './realtime/realtime.ts';
import { ChangeFeed } from './feed/feed.ts';

export interface HubOptions {
  /** false: every read recomputes from MongoDB (for the benchmark's uncached run). */
  useCache?: boolean;
  /** false: no change feed (tests that drive the engine by hand). */
  changeFeed?: boolean;
  /** More places changes go (tests use one to watch the engine's calls). */
  broadcasters?: Broadcaster[];
  /** false: every tRPC request goes through the standard adapter (the benchmark's comparison). */
  fastQueries?: boolean;
  /** Serves the demo page and its assets. */
  page?: RequestHandler;
}

export interface Hub {
  readonly server: Server;
  readonly database: Database;
  readonly engine: AvailabilityEngine;
  readonly events: EventLog;
  readonly cluster: ClusterServices;
  readonly realtime: Realtime;
  readonly feed: ChangeFeed | undefined;
  readonly tokens: Tokens;
  readonly metrics: Metrics;
  readonly port: number;
  readonly url: string;
  /** Ordered: gives up the lease, drains sockets and requests, then closes Redis and MongoDB. Safe to call twice. */
  stop(): Promise<void>;
}

/** How long open requests and streams get to finish when the hub stops. */
const DRAIN_MS = 3_000;

/** Builds and starts one hub instance from a validated config; needs MONGODB_URI to be set. */
export async function startHub(config: Config, logger: Logger, options: HubOptions = {}): Promise<Hub> {
  if (!config.MONGODB_URI) throw new Error('startHub needs MONGODB_URI; main.ts starts the embedded database');
  const metrics = createMetrics(config.INSTANCE_ID);
  const database = await connectDatabase(config.MONGODB_URI);
  const cluster = createClusterServices(config, logger);
  await cluster.events.ready();

  const server = createServer();
  const reader = new AvailabilityReader(database.models);
  const tokens = new Tokens(config.JWT_SECRET ?? Tokens.randomSecret());
  // The engine and the realtime side need each other (publish / snapshots); the sink list closes the loop.
  const sinks: ((events: Parameters<Realtime['emit']>[0]) => unknown)[] = [(routed) => cluster.events.append(routed)];
  const engine = new AvailabilityEngine(
    reader,
    cluster.store,
    fanOut(routedBroadcaster((keys) => reader.holdersOf(keys), sinks), ...(options.broadcasters ?? [])),
    {
      lowRatio: config.LOW_AVAILABILITY_RATIO,
      highDemandBookings: config.HIGH_DEMAND_BOOKINGS,
      highDemandWindowMs: config.HIGH_DEMAND_WINDOW_MINUTES * 60_000,
      timeZone: config.TIMEZONE,
      useCache: options.useCache ?? true,
    },
    metrics,
  );
  const realtime = createRealtime({
    server,
    engine,
    tokens,
    corsOrigins: config.CORS_ORIGINS,
    adapter: cluster.adapter,
    logger,
    metrics,
  });
  // Sockets first: the event log (for SSE resumes) is a Redis round trip they need not wait for.
  sinks.unshift((routed) => realtime.emit(routed));

  const feed =
    options.changeFeed === false
      ? undefined
      : new ChangeFeed({
          models: database.models,
          engine,
          lease: cluster.lease,
          tokens: cluster.resumeTokens,
          bookingKeys: cluster.bookingKeys,
          overrideKeys: cluster.overrideKeys,
          coalesceMs: config.COALESCE_MS,
          horizonDays: config.FEED_HORIZON_DAYS,
          timeZone: config.TIMEZONE,
          mode: config.FEED_MODE,
          pollIntervalMs: config.POLL_INTERVAL_MS,
          logger,
          metrics,
        });
  // After an outage, broadcasts may have been lost: sockets re-read their snapshots and the leader recomputes.
  cluster.onRecovered(() => {
    realtime.resyncLocal(RESYNC_REASON.REDIS_RECOVERED);
    feed?.requestResync('redis recovered');
  });

  const trpc = createTrpcHandler({ engine, events: cluster.events, tokens }, logger, { fast: options.fastQueries, metrics });
  const isReady = async () => (await Promise.all([database.ping(), cluster.answers()])).every(Boolean);
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
  const { port } = server.address() as AddressInfo;
  const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? 'localhost' : config.HOST;

  let stopping: Promise<void> | undefined;
  return {
    server,
    database,
    engine,
    events: cluster.events,
    cluster,
    realtime,
    feed,
    tokens,
    metrics,
    port,
    url: `http://${host}:${port}`,
    stop() {
      stopping ??= (async () => {
        await feed?.stop();
        // io.close() disconnects every socket and closes the HTTP server; idle keep-alive connections go now, busy ones after the drain.
        const closed = realtime.close();
        server.closeIdleConnections();
        const drain = setTimeout(() => server.closeAllConnections(), DRAIN_MS);
        await closed;
        clearTimeout(drain);
        await cluster.close();
        await database.close();
      })();
      return stopping;
    },
  };
}

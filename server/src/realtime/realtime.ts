import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import { AVAILABILITY_NAMESPACE, RESYNC_REASON, SUBSCRIBE_ERROR, type ResyncReason } from '@slotcast/shared';
import type { AvailabilityReads } from '../availability/reads.ts';
import type { Tokens } from '../auth/tokens.ts';
import type { RoutedEvent } from '../broadcast/rooms.ts';
import { originAllowed } from '../http/cors.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { emitEvent } from './emit.ts';
import { authenticate, tokenLifetime } from './handshake.ts';
import { subscriptionHandlers } from './subscriptions.ts';
import { dropSlowSockets } from './slow-sockets.ts';
import type { HubNamespace, HubServer } from './types.ts';

/** Socket.IO messages from clients are tiny; anything larger is refused by the transport. */
export const MAX_MESSAGE_BYTES = 16 * 1024;

export interface RealtimeOptions {
  server: HttpServer;
  /** Snapshots for subscribers; the realtime side never writes. */
  reads: AvailabilityReads;
  tokens: Tokens;
  corsOrigins: string[] | undefined;
  /** The Redis adapter in multi-instance mode; the default in-memory adapter otherwise. */
  adapter?: Parameters<HubServer['adapter']>[0];
  /**
   * `union` (default): each event is one broadcast to all its rooms. `per-room`: one broadcast per
   * room, each excepting the rooms before it, for the sharded adapter, which routes only a
   * one-room broadcast to that room's channel alone (cluster/pubsub.ts).
   */
  broadcast?: 'union' | 'per-room';
  /** Resolves once the adapter's subscriptions for these rooms are confirmed (sharded adapter); snapshots are read after it. */
  subscribed?: (rooms: string[]) => Promise<void>;
  logger: Logger;
  metrics: Metrics;
  /** SOCKET_MAX_QUEUED_BYTES: what may wait for one socket before it is dropped. */
  maxQueuedBytes: number;
}

export interface Realtime {
  io: HubServer;
  nsp: HubNamespace;
  /** Emits routed events to their rooms on every instance; each socket gets an event once however many of its rooms match. */
  emit(events: RoutedEvent[]): void;
  /** Tells this instance's sockets to re-read their snapshots. */
  resyncLocal(reason: ResyncReason): void;
  /** Disconnects every socket and stops accepting new ones. */
  close(): Promise<void>;
}

export function createRealtime(options: RealtimeOptions): Realtime {
  const { logger, metrics } = options;
  const io: HubServer = new Server(options.server, {
    maxHttpBufferSize: MAX_MESSAGE_BYTES,
    cors: { origin: options.corsOrigins ?? true },
    // Checked on every handshake, WebSocket upgrades included (CORS alone does not cover WebSocket).
    allowRequest: (req, callback) => callback(null, originAllowed(req.headers.origin, options.corsOrigins)),
  });
  if (options.adapter) io.adapter(options.adapter);
  const nsp: HubNamespace = io.of(AVAILABILITY_NAMESPACE);
  const handlers = subscriptionHandlers({ reads: options.reads, logger, metrics, subscribed: options.subscribed });
  const perRoom = options.broadcast === 'per-room';
  const lifetime = tokenLifetime(options.tokens, logger);
  const stopDropping = dropSlowSockets(nsp, options.maxQueuedBytes, metrics, logger);

  nsp.use(authenticate(options.tokens));
  nsp.on('connection', (socket) => {
    metrics.sockets.inc();
    lifetime.watch(socket);
    socket.on('disconnect', () => metrics.sockets.dec());
    const internal = (error: unknown) => {
      logger.error({ err: error }, 'subscription request failed');
      return { ok: false as const, error: { code: SUBSCRIBE_ERROR.INTERNAL, message: 'the request failed; try again' } };
    };
    socket.on('subscribe', (request, ack) => {
      if (typeof ack !== 'function') return;
      void handlers.subscribe(socket, request).catch(internal).then(ack);
    });
    socket.on('unsubscribe', (request, ack) => {
      if (typeof ack !== 'function') return;
      void handlers.unsubscribe(socket, request).catch(internal).then(ack);
    });
  });

  return {
    io,
    nsp,
    emit(events) {
      for (const { event, channels } of events) {
        if (perRoom) channels.forEach((room, i) => emitEvent(nsp.to(room).except(channels.slice(0, i)), event));
        else emitEvent(nsp.to(channels), event);
        metrics.emits.inc({ event: event.type });
      }
    },
    resyncLocal(reason = RESYNC_REASON.REDIS_RECOVERED) {
      nsp.local.emit('resync', { reason });
    },
    async close() {
      stopDropping();
      // Local: through the Redis adapter, nsp.disconnectSockets would close every instance's sockets.
      nsp.local.disconnectSockets(true);
      await new Promise<void>((resolve) => io.close(() => resolve()));
    },
  };
}

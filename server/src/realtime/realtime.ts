import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import { AVAILABILITY_NAMESPACE, RESYNC_REASON, SUBSCRIBE_ERROR, type ResyncReason } from '@slotcast/shared';
import type { AvailabilityEngine } from '../availability/engine.ts';
import { AuthError, type Tokens } from '../auth/tokens.ts';
import type { RoutedEvent } from '../broadcast/rooms.ts';
import { originAllowed } from '../http/cors.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { authenticate, scheduleExpiry } from './handshake.ts';
import { subscriptionHandlers } from './subscriptions.ts';
import type { HubNamespace, HubServer, HubSocket } from './types.ts';

/** Socket.IO messages from clients are tiny; anything larger is refused by the transport. */
export const MAX_MESSAGE_BYTES = 16 * 1024;

export interface RealtimeOptions {
  server: HttpServer;
  engine: AvailabilityEngine;
  tokens: Tokens;
  corsOrigins: string[] | undefined;
  /** The Redis adapter in multi-instance mode; the default in-memory adapter otherwise. */
  adapter?: Parameters<HubServer['adapter']>[0];
  logger: Logger;
  metrics: Metrics;
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
  const handlers = subscriptionHandlers({ engine: options.engine, logger, metrics });
  const expiry = new WeakMap<HubSocket, NodeJS.Timeout>();

  nsp.use(authenticate(options.tokens));
  nsp.on('connection', (socket) => {
    metrics.sockets.inc();
    scheduleExpiry(socket, socket.data.principal, expiry);
    socket.on('disconnect', () => {
      metrics.sockets.dec();
      clearTimeout(expiry.get(socket));
    });
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
    socket.on('auth', (request, ack) => {
      if (typeof ack !== 'function') return;
      const token: unknown = (request as { token?: unknown } | null)?.token;
      if (typeof token !== 'string') return ack({ ok: false, error: { code: 'UNAUTHORIZED', message: 'token must be a string' } });
      options.tokens.verify(token).then(
        (principal) => {
          const current = socket.data.principal;
          if (current && current.userId !== principal.userId) {
            return ack({ ok: false, error: { code: 'FORBIDDEN', message: 'a replacement token must be for the same user' } });
          }
          socket.data.principal = principal;
          scheduleExpiry(socket, principal, expiry);
          ack({ ok: true, expiresAt: principal.expiresAt });
        },
        (error: unknown) => {
          if (!(error instanceof AuthError)) logger.error({ err: error }, 'token check failed');
          ack({ ok: false, error: { code: 'UNAUTHORIZED', message: error instanceof Error ? error.message : 'invalid token' } });
        },
      );
    });
  });

  return {
    io,
    nsp,
    emit(events) {
      for (const { event, channels } of events) {
        nsp.to(channels).emit(event.type, event.data as never);
        metrics.emits.inc({ event: event.type });
      }
    },
    resyncLocal(reason = RESYNC_REASON.REDIS_RECOVERED) {
      nsp.local.emit('resync', { reason });
    },
    async close() {
      nsp.disconnectSockets(true);
      await new Promise<void>((resolve) => io.close(() => resolve()));
    },
  };
}

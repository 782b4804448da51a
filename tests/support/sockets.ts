import { io, type Socket } from 'socket.io-client';
import { afterAll } from 'vitest';
import type {
  Alert,
  AvailabilityUpdate,
  BookingUpdate,
  ClientToServerEvents,
  HoldUpdate,
  WaitlistOffer,
  WaitlistUpdate,
  ServerToClientEvents,
  SubscribeAck,
} from '@slotcast/shared';
import { Waiter } from './waiter.ts';

export type HubClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

const open = new Set<HubClientSocket>();
afterAll(() => {
  for (const socket of open) socket.close();
});

/** Connects to /availability and resolves once connected, or rejects with the connect_error. */
export function connect(url: string, options: { token?: string; origin?: string; transports?: string[] } = {}): Promise<HubClientSocket> {
  const socket: HubClientSocket = io(`${url}/availability`, {
    auth: options.token ? { token: options.token } : {},
    transports: options.transports ?? ['websocket'],
    reconnection: false,
    forceNew: true,
    extraHeaders: options.origin ? { origin: options.origin } : undefined,
  });
  open.add(socket);
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (error) => {
      socket.close();
      reject(error);
    });
  });
}

export const subscribe = (socket: HubClientSocket, channel: unknown): Promise<SubscribeAck> =>
  socket.timeout(10_000).emitWithAck('subscribe', channel as { channel: string });

/**
 * Records what one socket receives and keeps the client-side state the contract promises:
 * per key, the newest version wins.
 */
export class Received {
  readonly updates: AvailabilityUpdate[] = [];
  readonly alerts: Alert[] = [];
  readonly bookings: BookingUpdate[] = [];
  readonly holds: HoldUpdate[] = [];
  readonly offers: WaitlistOffer[] = [];
  readonly entries: WaitlistUpdate[] = [];
  readonly resyncs: string[] = [];
  /** Errors of work done on the socket's behalf (such as re-subscribing after a resync). */
  readonly failures: Error[] = [];
  readonly state = new Map<string, AvailabilityUpdate | SubscribeAck>();
  private readonly waiter = new Waiter();

  constructor(readonly socket: HubClientSocket) {
    socket.on('availability.updated', (update) => {
      this.updates.push(update);
      const key = `${update.sessionId}:${update.date}`;
      const held = this.state.get(key) as AvailabilityUpdate | undefined;
      if (!held || held.version < update.version) this.state.set(key, update);
      this.wake();
    });
    socket.on('availability.alert', (alert) => {
      this.alerts.push(alert);
      this.wake();
    });
    socket.on('booking.updated', (update) => {
      this.bookings.push(update);
      this.wake();
    });
    socket.on('hold.updated', (update) => {
      this.holds.push(update);
      this.wake();
    });
    socket.on('waitlist.offer', (offer) => {
      this.offers.push(offer);
      this.wake();
    });
    socket.on('waitlist.updated', (update) => {
      this.entries.push(update);
      this.wake();
    });
    socket.on('resync', (notice) => {
      this.resyncs.push(notice.reason);
      this.wake();
    });
  }

  /** Applies a subscribe ack's snapshot like a client would. */
  apply(ack: SubscribeAck): SubscribeAck {
    if (ack.ok) {
      for (const row of ack.snapshot) {
        const key = `${row.sessionId}:${row.date}`;
        const held = this.state.get(key) as { version: number } | undefined;
        if (!held || held.version < row.version) this.state.set(key, { ...row, reason: 'refresh' });
      }
    }
    this.wake();
    return ack;
  }

  get(sessionId: string, date: string): AvailabilityUpdate | undefined {
    return this.state.get(`${sessionId}:${date}`) as AvailabilityUpdate | undefined;
  }

  private wake(): void {
    this.waiter.wake();
  }

  /** Resolves when `check` passes on what was received; rejects after the timeout. */
  until(description: string, check: (received: this) => boolean, timeoutMs = 15_000): Promise<void> {
    return this.waiter.until(description, () => check(this), timeoutMs, { detail: () => `${this.updates.length} updates received` });
  }

  /** No key's version arrived twice (true even across a failover, when order is not promised). */
  noVersionTwice(): boolean {
    const seen = new Set(this.updates.map((update) => `${update.sessionId}:${update.date}:${update.version}`));
    return seen.size === this.updates.length;
  }

  /** Every key's versions arrived in increasing order with none twice (one stable leader). */
  versionsStrictlyIncrease(): boolean {
    const last = new Map<string, number>();
    return this.updates.every((update) => {
      const key = `${update.sessionId}:${update.date}`;
      const ok = (last.get(key) ?? -1) < update.version;
      last.set(key, update.version);
      return ok;
    });
  }
}

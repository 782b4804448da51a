import { io as connectIo, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import {
  AVAILABILITY_NAMESPACE,
  CONNECT_ERROR,
  keyOf,
  parseChannel,
  SUBSCRIBE_ERROR,
  type Alert,
  type AuthAck,
  type AvailabilityUpdate,
  type BookingUpdate,
  type Channel,
  type HoldUpdate,
  type ClientToServerEvents,
  type ServerToClientEvents,
  type SessionAvailability,
  type SubscribeAck,
  type WaitlistOffer,
  type WaitlistUpdate,
  type WireError,
} from '@slotcast/shared';
import { DEFAULT_BACKOFF, fullJitter, type BackoffOptions } from './backoff.ts';
import { CONNECTION_STATE, STATE_REASON, type ConnectionState, type StateChange, type StateReason } from './states.ts';
import { AvailabilityStore } from './store.ts';

type Token = string | null | undefined;
type HubSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface RealtimeClientOptions {
  /** The hub's base URL (the client adds /availability). */
  url: string;
  /** A token, or a function returning the current one; called before every (re)connect. */
  token?: Token | (() => Token | Promise<Token>);
  backoff?: BackoffOptions;
  /** Defaults to WebSocket with long-polling as fallback. */
  transports?: ('websocket' | 'polling')[];
  /** Where the browser's online/offline events come from; defaults to globalThis when it has them. */
  eventTarget?: Pick<EventTarget, 'addEventListener' | 'removeEventListener'>;
  /** How long a subscribe waits for the hub's ack before asking again; default 10 s. */
  ackTimeoutMs?: number;
  /** Extra socket.io-client options (tests, custom paths). */
  io?: Partial<ManagerOptions & SocketOptions>;
}

/** Not a hub code: the client's own, when a subscribe got no ack in time (it asks again). */
export const ACK_TIMEOUT = 'ACK_TIMEOUT';
/** Refusals that may go away by themselves: the client subscribes again after a backoff. */
const RETRYABLE = new Set<string>([SUBSCRIBE_ERROR.RATE_LIMITED, SUBSCRIBE_ERROR.INTERNAL, ACK_TIMEOUT]);

export interface ChannelHandlers {
  /** The channel's rows after each (re)subscribe, newest versions only. */
  onSnapshot?(rows: SessionAvailability[]): void;
  /** A newer availability for a key in this channel. */
  onUpdate?(update: AvailabilityUpdate): void;
  onAlert?(alert: Alert): void;
  /** User channels: the owner's booking changed. */
  onBooking?(update: BookingUpdate): void;
  /**
   * The subscribe was refused (INVALID_CHANNEL, FORBIDDEN, NOT_FOUND, …) or not answered in time
   * (ACK_TIMEOUT). RATE_LIMITED, INTERNAL and ACK_TIMEOUT are retried with backoff; the others are final.
   */
  onError?(error: WireError): void;
}

interface Subscription {
  channel: Channel;
  name: string;
  handlers: Set<ChannelHandlers>;
  /** Keys this channel delivered; user channels match updates by them. */
  keys: Set<string>;
}

type Events = {
  state: (change: StateChange) => void;
  alert: (alert: Alert) => void;
  booking: (update: BookingUpdate) => void;
  /** User channels: one of the owner's holds changed (created, extended, released, expired, confirmed). */
  hold: (update: HoldUpdate) => void;
  /** User channels: places were offered to one of the owner's waitlist entries, as a hold. */
  offer: (offer: WaitlistOffer) => void;
  /** User channels: one of the owner's waitlist entries changed status. */
  waitlist: (update: WaitlistUpdate) => void;
};

function inChannel(subscription: Subscription, a: { sessionId: string; date: string }): boolean {
  const { channel } = subscription;
  switch (channel.kind) {
    case 'global':
      return true;
    case 'date':
      return a.date === channel.date;
    case 'range':
      return a.date >= channel.from && a.date <= channel.to;
    case 'session':
      return a.sessionId === channel.sessionId;
    case 'user':
      return subscription.keys.has(keyOf(a));
  }
}

/**
 * A live connection to the hub's /availability namespace that keeps its subscriptions: it
 * reconnects with full-jitter backoff (at once when the browser comes back online),
 * subscribes again after every reconnect and whenever the hub asks for a resync, and feeds
 * every snapshot and update through one store that only ever moves forward in version.
 */
export class RealtimeClient {
  readonly store = new AvailabilityStore();
  private socket: HubSocket | undefined;
  private current: ConnectionState = CONNECTION_STATE.idle;
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly joinRetries = new Set<ReturnType<typeof setTimeout>>();
  private token: RealtimeClientOptions['token'];
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly listeners: { [K in keyof Events]: Set<Events[K]> } = { state: new Set(), alert: new Set(), booking: new Set(), hold: new Set(), offer: new Set(), waitlist: new Set() };
  private readonly onlineTarget: RealtimeClientOptions['eventTarget'];

  constructor(private readonly options: RealtimeClientOptions) {
    this.token = options.token;
    const browser = typeof (globalThis as Partial<EventTarget>).addEventListener === 'function' ? (globalThis as unknown as EventTarget) : undefined;
    this.onlineTarget = options.eventTarget ?? browser;
  }

  get state(): ConnectionState {
    return this.current;
  }

  on<K extends keyof Events>(event: K, listener: Events[K]): () => void {
    this.listeners[event].add(listener);
    return () => this.listeners[event].delete(listener);
  }

  connect(): void {
    if (this.current !== CONNECTION_STATE.idle && this.current !== CONNECTION_STATE.closed) return;
    this.onlineTarget?.addEventListener('online', this.handleOnline);
    this.open(STATE_REASON.connectCalled);
  }

  close(): void {
    clearTimeout(this.retryTimer);
    this.onlineTarget?.removeEventListener('online', this.handleOnline);
    if (this.socket) this.dispose(this.socket);
    this.setState(CONNECTION_STATE.closed, STATE_REASON.closeCalled);
  }

  /**
   * Subscribes to a channel (now, and again after every reconnect); returns a function that
   * unsubscribes. Handlers of one channel only hear about keys in that channel.
   */
  subscribe(name: string, handlers: ChannelHandlers = {}): () => void {
    const channel = parseChannel(name);
    if (!channel) {
      handlers.onError?.({ code: SUBSCRIBE_ERROR.INVALID_CHANNEL, message: `not a channel name: ${name}` });
      return () => undefined;
    }
    let subscription = this.subscriptions.get(name);
    if (!subscription) {
      subscription = { channel, name, handlers: new Set(), keys: new Set() };
      this.subscriptions.set(name, subscription);
    }
    subscription.handlers.add(handlers);
    if (this.socket?.connected) void this.join(subscription, [handlers]);
    return () => {
      subscription.handlers.delete(handlers);
      if (subscription.handlers.size > 0) return;
      this.subscriptions.delete(name);
      if (this.socket?.connected) this.socket.emit('unsubscribe', { channel: name }, () => undefined);
    };
  }

  /** Replaces the token (before it expires); the connection is kept when the hub accepts it. */
  async setToken(token: RealtimeClientOptions['token']): Promise<AuthAck | undefined> {
    this.token = token;
    if (!this.socket?.connected) return undefined;
    const value = await this.currentToken();
    if (!value) return undefined;
    return this.socket.timeout(10_000).emitWithAck('auth', { token: value });
  }

  private async currentToken(): Promise<string | undefined> {
    const token = typeof this.token === 'function' ? await this.token() : this.token;
    return token ?? undefined;
  }

  private readonly handleOnline = () => {
    if (this.current !== CONNECTION_STATE.disconnected) return;
    clearTimeout(this.retryTimer);
    this.attempt = 0;
    this.open(STATE_REASON.online);
  };

  private open(reason: StateReason): void {
    this.setState(CONNECTION_STATE.connecting, reason);
    const socket: HubSocket = connectIo(`${this.options.url.replace(/\/+$/, '')}${AVAILABILITY_NAMESPACE}`, {
      transports: this.options.transports ?? ['websocket', 'polling'],
      reconnection: false,
      forceNew: true,
      auth: (callback) => {
        void this.currentToken().then((token) => callback(token ? { token } : {}));
      },
      ...this.options.io,
    });
    this.socket = socket;
    socket.on('connect', () => {
      this.attempt = 0;
      this.setState(CONNECTION_STATE.connected, STATE_REASON.connected);
      void this.resubscribeAll();
    });
    socket.on('connect_error', (error) => {
      const unauthorized = error.message === CONNECT_ERROR.UNAUTHORIZED;
      // A fixed token that the hub refuses will be refused again; a token function may do better next time.
      if (unauthorized && typeof this.token !== 'function') {
        this.dispose(socket);
        this.setState(CONNECTION_STATE.closed, STATE_REASON.unauthorized);
        return;
      }
      this.retry(socket, unauthorized ? STATE_REASON.unauthorized : STATE_REASON.connectError);
    });
    socket.on('disconnect', (why) => {
      this.retry(socket, why === 'io server disconnect' ? STATE_REASON.serverDisconnect : STATE_REASON.transportClosed);
    });
    socket.on('resync', () => void this.resubscribeAll());
    socket.on('availability.updated', (update) => this.deliver(update));
    socket.on('availability.alert', (alert) => {
      for (const listener of this.listeners.alert) listener(alert);
      for (const subscription of this.subscriptions.values()) {
        if (inChannel(subscription, alert)) subscription.handlers.forEach((h) => h.onAlert?.(alert));
      }
    });
    socket.on('hold.updated', (update) => {
      this.deliver({ ...update.availability, reason: 'hold' });
      for (const listener of this.listeners.hold) listener(update);
    });
    socket.on('waitlist.offer', (offer) => {
      this.deliver({ ...offer.availability, reason: 'hold' });
      for (const listener of this.listeners.offer) listener(offer);
    });
    socket.on('waitlist.updated', (update) => {
      for (const listener of this.listeners.waitlist) listener(update);
    });
    socket.on('booking.updated', (update) => {
      this.deliver({ ...update.availability, reason: 'booking' });
      for (const listener of this.listeners.booking) listener(update);
      for (const subscription of this.subscriptions.values()) {
        if (subscription.channel.kind !== 'user') continue;
        subscription.keys.add(keyOf(update));
        subscription.handlers.forEach((h) => h.onBooking?.(update));
      }
    });
  }

  private dispose(socket: HubSocket): void {
    this.joinRetries.forEach(clearTimeout);
    this.joinRetries.clear();
    socket.removeAllListeners();
    socket.close();
    if (this.socket === socket) this.socket = undefined;
  }

  private retry(socket: HubSocket, reason: StateReason): void {
    if (this.socket !== socket) return;
    this.dispose(socket);
    const delayMs = fullJitter(this.attempt, this.options.backoff ?? DEFAULT_BACKOFF);
    this.attempt += 1;
    this.setState(CONNECTION_STATE.disconnected, reason, { attempt: this.attempt, delayMs });
    this.retryTimer = setTimeout(() => this.open(STATE_REASON.reconnect), delayMs);
  }

  private deliver(update: AvailabilityUpdate): void {
    if (!this.store.apply(update)) return;
    for (const subscription of this.subscriptions.values()) {
      if (inChannel(subscription, update)) subscription.handlers.forEach((h) => h.onUpdate?.(update));
    }
  }

  private async resubscribeAll(): Promise<void> {
    await Promise.all([...this.subscriptions.values()].map((subscription) => this.join(subscription, [...subscription.handlers])));
  }

  private async join(subscription: Subscription, handlers: ChannelHandlers[], attempt = 0): Promise<void> {
    const socket = this.socket;
    if (!socket?.connected) return; // The next connect subscribes again.
    let ack: SubscribeAck | { ok: false; error: WireError };
    try {
      ack = await socket.timeout(this.options.ackTimeoutMs ?? 10_000).emitWithAck('subscribe', { channel: subscription.name });
    } catch {
      ack = { ok: false, error: { code: ACK_TIMEOUT, message: 'the hub did not answer the subscribe in time' } };
    }
    if (!ack.ok) {
      const { error } = ack;
      handlers.forEach((h) => h.onError?.(error));
      if (RETRYABLE.has(error.code)) this.joinLater(socket, subscription, handlers, attempt);
      return;
    }
    for (const row of ack.snapshot) {
      subscription.keys.add(keyOf(row));
      this.store.apply(row);
    }
    // Handlers see the store's rows (newest versions), which may be newer than the snapshot.
    const rows = ack.snapshot.map((row) => this.store.get(row.sessionId, row.date) ?? row);
    handlers.forEach((h) => h.onSnapshot?.(rows));
  }

  /** Asks again after a backoff, unless the connection or the subscription is gone by then. */
  private joinLater(socket: HubSocket, subscription: Subscription, handlers: ChannelHandlers[], attempt: number): void {
    const timer = setTimeout(() => {
      this.joinRetries.delete(timer);
      if (this.socket !== socket || this.subscriptions.get(subscription.name) !== subscription) return;
      void this.join(subscription, handlers.filter((h) => subscription.handlers.has(h)), attempt + 1);
    }, fullJitter(attempt, this.options.backoff ?? DEFAULT_BACKOFF));
    this.joinRetries.add(timer);
  }

  private setState(state: ConnectionState, reason: StateReason, extra: { attempt?: number; delayMs?: number } = {}): void {
    const previous = this.current;
    this.current = state;
    for (const listener of this.listeners.state) listener({ state, previous, reason, ...extra });
  }
}

export function createRealtimeClient(options: RealtimeClientOptions): RealtimeClient {
  return new RealtimeClient(options);
}

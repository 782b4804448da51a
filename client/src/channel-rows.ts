import { keyOf, type Key, type SessionAvailability, type WireError } from '@slotcast/shared';
import type { RealtimeClient } from './realtime.ts';

/** What a channel shows: its rows (newest versions, by date and start time) and where its subscription is. */
export interface ChannelRowsState {
  rows: readonly SessionAvailability[];
  /** `subscribing` until the first snapshot; `error` after a refusal (RATE_LIMITED, INTERNAL and ACK_TIMEOUT are retried). */
  status: 'subscribing' | 'subscribed' | 'error';
  error?: WireError;
}

type Listener = () => void;

const byDateAndTime = (a: SessionAvailability, b: SessionAvailability) =>
  a.date.localeCompare(b.date) || a.startTime.localeCompare(b.startTime) || a.name.localeCompare(b.name);

/**
 * One channel's rows as a value that can be read and listened to (the shape React's
 * useSyncExternalStore wants; usable from any UI code). `start()` subscribes the client to the
 * channel and returns the function that stops it; it may be started again after a stop. The
 * rows are the keys the channel delivered, read from the client's store, so they only ever
 * move forward in version, whichever channel brought the newer one.
 */
export class ChannelRows {
  private state: ChannelRowsState = { rows: [], status: 'subscribing' };
  /** The keys this channel delivered, by their text form. */
  private readonly keys = new Map<string, Key>();
  private readonly listeners = new Set<Listener>();

  constructor(
    private readonly client: RealtimeClient,
    readonly channel: string,
  ) {}

  /** The current state; the same object until something changes. */
  readonly getSnapshot = (): ChannelRowsState => this.state;

  readonly subscribe = (listener: Listener): (() => void) => {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  };

  start(): () => void {
    let live = true;
    const stopStore = this.client.store.subscribe(({ availability }) => {
      if (live && this.keys.has(keyOf(availability))) this.refresh({});
    });
    const unsubscribe = this.client.subscribe(this.channel, {
      onSnapshot: (rows) => {
        if (!live) return;
        this.keys.clear();
        for (const row of rows) this.keys.set(keyOf(row), { sessionId: row.sessionId, date: row.date });
        this.refresh({ status: 'subscribed', error: undefined });
      },
      // A key new to the channel: a session added on that date; on a user channel, a new booking, hold or offer.
      onUpdate: (update) => this.add(live, update),
      onBooking: (update) => this.add(live, update),
      onHold: (update) => this.add(live, update.hold),
      onOffer: (offer) => this.add(live, offer.hold),
      onError: (error) => {
        if (live) this.refresh({ status: 'error', error });
      },
    });
    return () => {
      live = false;
      stopStore();
      unsubscribe();
    };
  }

  private add(live: boolean, key: Key): void {
    if (!live || this.keys.has(keyOf(key))) return;
    this.keys.set(keyOf(key), { sessionId: key.sessionId, date: key.date });
    this.refresh({});
  }

  private refresh(change: Partial<ChannelRowsState>): void {
    const rows = [...this.keys.values()]
      .map(({ sessionId, date }) => this.client.store.get(sessionId, date))
      .filter((row): row is SessionAvailability => row !== undefined)
      .sort(byDateAndTime);
    this.state = { ...this.state, ...change, rows };
    for (const listener of this.listeners) listener();
  }
}

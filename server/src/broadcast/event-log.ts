import type { HubEvent } from '@slotcast/shared';

export interface LoggedEvent {
  /** A cursor (see `advance`) that covers this event and everything its log delivered before it. */
  id: string;
  /** Which of the log's streams holds it (0 when there is one), and its stream id "<ms>-<seq>" there. */
  bucket: number;
  position: string;
  event: HubEvent;
  /** The channels (rooms) the event is for. */
  channels: string[];
}

/**
 * The ordered, bounded history of hub events that SSE subscribers follow and resume from.
 * In memory for one instance, one Redis stream for several, or several streams spread over a
 * Redis Cluster's masters; all pass tests/contract/event-log.contract.ts.
 *
 * Positions are cursors: one stream id per stream, joined by "_" ("<ms>-<seq>" alone with one
 * stream). Within a stream, ids increase; events of one (session, date) always go to the same
 * stream, so they keep their order. A cursor says how far each stream was read: resuming after it
 * reads every stream after its own position, so nothing between two streams can fall through.
 */
export interface EventLog {
  /** Stream ids ("<ms>-<seq>") of the appended events, each in its own stream. */
  append(entries: { event: HubEvent; channels: string[] }[]): Promise<string[]>;
  /** Events after the cursor `id`, oldest first per stream, each with the cursor that covers it; undefined when the log no longer holds everything after it. */
  after(id: string): Promise<LoggedEvent[] | undefined>;
  /** The cursor of the newest events ("0-0" per stream when empty). */
  tip(): Promise<string>;
  /** Resolves once every later append, by any instance, reaches this log's subscribers. */
  ready(): Promise<void>;
  /** Calls `listener` with every event appended from now on, by any instance. */
  subscribe(listener: (entry: LoggedEvent) => void): () => void;
  close(): Promise<void>;
}

export function compareEventIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am - bm || as - bs;
}

/** A cursor of at most 64 streams. */
export const EVENT_ID = /^\d{1,15}-\d{1,15}(_\d{1,15}-\d{1,15}){0,63}$/;

/** The cursor's stream ids, or undefined when it is not one of a log of `buckets` streams. */
export function cursorPositions(cursor: string, buckets: number): string[] | undefined {
  if (!EVENT_ID.test(cursor)) return undefined;
  const positions = cursor.split('_');
  return positions.length === buckets ? positions : undefined;
}

/** True when the cursor already covers the event (it was sent, or skipped as not for the channel). */
export function covers(cursor: string, entry: Pick<LoggedEvent, 'bucket' | 'position'>): boolean {
  const held = cursor.split('_')[entry.bucket];
  return held !== undefined && compareEventIds(entry.position, held) <= 0;
}

/** The cursor moved past the event in its stream. */
export function advance(cursor: string, entry: Pick<LoggedEvent, 'bucket' | 'position'>): string {
  const positions = cursor.split('_');
  positions[entry.bucket] = entry.position;
  return positions.join('_');
}

/** How many events a log keeps for resuming; older ones mean a resume falls back to a snapshot. */
export const EVENT_LOG_LENGTH = 10_000;

export class MemoryEventLog implements EventLog {
  private readonly entries: LoggedEvent[] = [];
  private readonly listeners = new Set<(entry: LoggedEvent) => void>();
  private lastMs = 0;
  private seq = 0;
  /** The id of the newest event that was dropped for length, so `after` can tell a gap. */
  private dropped = '0-0';

  constructor(private readonly length = EVENT_LOG_LENGTH) {}

  private nextId(): string {
    const now = Date.now();
    if (now > this.lastMs) {
      this.lastMs = now;
      this.seq = 0;
    } else {
      this.seq += 1;
    }
    return `${this.lastMs}-${this.seq}`;
  }

  async append(entries: { event: HubEvent; channels: string[] }[]): Promise<string[]> {
    return entries.map(({ event, channels }) => {
      const id = this.nextId();
      const logged = { id, bucket: 0, position: id, event, channels };
      this.entries.push(logged);
      if (this.entries.length > this.length) this.dropped = this.entries.shift()!.id;
      for (const listener of this.listeners) listener(logged);
      return logged.id;
    });
  }

  async after(id: string): Promise<LoggedEvent[] | undefined> {
    if (!cursorPositions(id, 1)) return undefined;
    if (compareEventIds(id, this.dropped) < 0) return undefined;
    if (compareEventIds(id, await this.tip()) > 0) return undefined;
    return this.entries.filter((entry) => compareEventIds(entry.id, id) > 0);
  }

  async tip(): Promise<string> {
    return this.entries.at(-1)?.id ?? this.dropped;
  }

  async ready(): Promise<void> {}

  subscribe(listener: (entry: LoggedEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }
}

import type { HubEvent } from '@slotcast/shared';

export interface LoggedEvent {
  /** Stream id "<ms>-<seq>": increasing, comparable with `compareEventIds`. */
  id: string;
  event: HubEvent;
  /** The channels (rooms) the event is for. */
  channels: string[];
}

/**
 * The ordered, bounded history of hub events that SSE subscribers follow and resume from.
 * In memory for one instance, a Redis stream for several; both pass tests/contract/event-log.contract.ts.
 */
export interface EventLog {
  append(entries: { event: HubEvent; channels: string[] }[]): Promise<string[]>;
  /** Events after `id`, oldest first; undefined when the log no longer holds everything after it. */
  after(id: string): Promise<LoggedEvent[] | undefined>;
  /** The newest id, or "0-0" when empty. */
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

export const EVENT_ID = /^\d{1,15}-\d{1,15}$/;

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
      const logged = { id: this.nextId(), event, channels };
      this.entries.push(logged);
      if (this.entries.length > this.length) this.dropped = this.entries.shift()!.id;
      for (const listener of this.listeners) listener(logged);
      return logged.id;
    });
  }

  async after(id: string): Promise<LoggedEvent[] | undefined> {
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

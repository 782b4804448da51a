import { createHash } from 'node:crypto';
import type { HubEvent } from '@slotcast/shared';
import type { RedisClient } from '../cluster/redis.ts';
import type { Logger } from '../observability/logger.ts';
import { advance, compareEventIds, cursorPositions, EVENT_LOG_LENGTH, type EventLog, type LoggedEvent } from './event-log.ts';

type StreamEntry = [id: string, fields: string[]];

function decode(bucket: number, [id, fields]: StreamEntry): Omit<LoggedEvent, 'id'> {
  const value = (name: string) => fields[fields.indexOf(name) + 1] ?? 'null';
  return { bucket, position: id, event: JSON.parse(value('event')) as HubEvent, channels: JSON.parse(value('channels')) as string[] };
}

/** The (session, date) an event is about: all of one key's events go to one stream, so they keep their order. */
function subjectOf(event: HubEvent): string {
  switch (event.type) {
    case 'availability.updated':
    case 'availability.alert':
    case 'booking.updated':
      return `${event.data.sessionId}:${event.data.date}`;
    case 'hold.updated':
      return `${event.data.hold.sessionId}:${event.data.hold.date}`;
    case 'waitlist.offer':
    case 'waitlist.updated':
      return `${event.data.entry.sessionId}:${event.data.entry.date}`;
    default:
      return event satisfies never;
  }
}

export function bucketOf(event: HubEvent, buckets: number): number {
  if (buckets === 1) return 0;
  return createHash('sha1').update(subjectOf(event)).digest().readUInt32BE(0) % buckets;
}

/**
 * Redis streams shared by every instance: one on a single Redis, one per bucket on a Redis
 * Cluster (each bucket's key hash-tagged onto a different master, so no shard carries every
 * event). Each instance follows every stream with one blocking reader per stream, which
 * survives Redis outages and failovers and continues from the last id it saw.
 */
export class RedisEventLog implements EventLog {
  private readonly listeners = new Set<(entry: LoggedEvent) => void>();
  private readonly readers: RedisClient[];
  private closed = false;
  private signalClosed!: () => void;
  /** Resolves on close: a read queued while Redis is away never settles, so the follower races it against this. */
  private readonly closing = new Promise<null>((resolve) => (this.signalClosed = () => resolve(null)));
  /** Each stream's id the followers start after: its tip when this log was made. */
  private readonly start: Promise<string[]>;
  /** What this instance's followers delivered last, per stream: the cursor each delivered event carries. */
  private delivered: string[];
  private readonly following: Promise<void>[];

  /**
   * @param keys one stream key per bucket (`RedisKeys.events`)
   * @param openReader a connection of its own for each stream's blocking XREAD
   */
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: string[],
    private readonly logger: Logger,
    openReader: () => RedisClient,
    private readonly length = EVENT_LOG_LENGTH,
  ) {
    this.readers = keys.map(() => {
      const reader = openReader();
      reader.on('error', () => {
        // The command connection reports Redis errors; this one only waits on XREAD.
      });
      return reader;
    });
    this.delivered = keys.map(() => '0-0');
    this.start = Promise.all(
      keys.map((key) =>
        this.streamTip(key).catch((error: unknown) => {
          // Follow from "now" instead: SSE resumes across the gap fall back to a snapshot, nothing is lost.
          logger.warn({ err: error, stream: key }, 'could not read the event log tip; following new events only');
          return '$';
        }),
      ),
    );
    this.following = keys.map((_, bucket) => this.follow(bucket));
  }

  async ready(): Promise<void> {
    await this.start;
  }

  async append(entries: { event: HubEvent; channels: string[] }[]): Promise<string[]> {
    // One XADD per event, sent back to back (a cluster refuses one pipeline over several masters).
    return Promise.all(
      entries.map(async ({ event, channels }) => {
        const key = this.keys[bucketOf(event, this.keys.length)]!;
        const id = await this.redis.xadd(key, 'MAXLEN', '~', String(this.length), '*', 'event', JSON.stringify(event), 'channels', JSON.stringify(channels));
        return String(id);
      }),
    );
  }

  async after(id: string): Promise<LoggedEvent[] | undefined> {
    const positions = cursorPositions(id, this.keys.length);
    if (!positions) return undefined;
    const perStream = await Promise.all(positions.map((position, bucket) => this.streamAfter(bucket, position)));
    if (perStream.some((entries) => entries === undefined)) return undefined;
    // Oldest first across streams; each event's cursor covers it and every one before it in this list.
    const merged = perStream.flatMap((entries) => entries!).sort((a, b) => compareEventIds(a.position, b.position) || a.bucket - b.bucket);
    let cursor = id;
    return merged.map((entry) => {
      cursor = advance(cursor, entry);
      return { ...entry, id: cursor };
    });
  }

  private async streamAfter(bucket: number, position: string): Promise<Omit<LoggedEvent, 'id'>[] | undefined> {
    const key = this.keys[bucket]!;
    const info = await this.streamInfo(key);
    if (!info) return compareEventIds(position, '0-0') === 0 ? [] : undefined;
    // Newer than anything this stream made: the id is from another history (Redis restarted).
    if (compareEventIds(position, info.lastGenerated) > 0) return undefined;
    // Once anything was trimmed, an id before the first held entry may have missed events.
    if (info.trimmed && info.firstId && compareEventIds(position, info.firstId) < 0) return undefined;
    const entries = (await this.redis.xrange(key, `(${position}`, '+')) as StreamEntry[];
    return entries.map((entry) => decode(bucket, entry));
  }

  private async streamInfo(key: string): Promise<{ lastGenerated: string; firstId?: string; trimmed: boolean } | undefined> {
    let reply: unknown[];
    try {
      reply = (await this.redis.xinfo('STREAM', key)) as unknown[];
    } catch (error) {
      if (/no such key/i.test((error as Error).message)) return undefined;
      throw error;
    }
    const field = (name: string) => (reply.includes(name) ? reply[reply.indexOf(name) + 1] : undefined);
    const first = field('first-entry') as StreamEntry | null | undefined;
    // Redis 6 has no entries-added: assume trimming happened.
    const added = field('entries-added');
    const trimmed = added === undefined || Number(added) > Number(field('length'));
    return { lastGenerated: String(field('last-generated-id')), firstId: first?.[0], trimmed };
  }

  private async streamTip(key: string): Promise<string> {
    const [last] = (await this.redis.xrevrange(key, '+', '-', 'COUNT', 1)) as StreamEntry[];
    return last?.[0] ?? '0-0';
  }

  async tip(): Promise<string> {
    return (await Promise.all(this.keys.map((key) => this.streamTip(key)))).join('_');
  }

  subscribe(listener: (entry: LoggedEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private async follow(bucket: number): Promise<void> {
    const key = this.keys[bucket]!;
    const reader = this.readers[bucket]!;
    let last = (await this.start)[bucket]!;
    if (last !== '$') this.delivered[bucket] = last;
    let failures = 0;
    while (!this.closed) {
      try {
        const read = reader.xread('COUNT', 500, 'BLOCK', 5_000, 'STREAMS', key, last) as Promise<[string, StreamEntry[]][] | null>;
        // After close, a queued read may still fail; that failure is expected and must not go unhandled.
        read.catch(() => null);
        const reply = await Promise.race([read, this.closing]);
        failures = 0;
        for (const entry of reply?.[0]?.[1] ?? []) {
          last = entry[0];
          this.delivered[bucket] = last;
          const decoded = { ...decode(bucket, entry), id: this.delivered.join('_') };
          for (const listener of this.listeners) listener(decoded);
        }
      } catch (error) {
        if (this.closed) break;
        failures += 1;
        if (failures === 1) this.logger.warn({ err: (error as Error).message, stream: key }, 'event stream reader lost Redis; retrying');
        const backoff = new Promise((resolve) => setTimeout(resolve, Math.min(2_000, 100 * 2 ** Math.min(failures, 5))));
        await Promise.race([backoff, this.closing]);
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.signalClosed();
    this.listeners.clear();
    for (const reader of this.readers) reader.disconnect();
    await Promise.all(this.following);
  }
}

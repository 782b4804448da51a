import type { Redis } from 'ioredis';
import type { HubEvent } from '@slotcast/shared';
import type { Logger } from '../observability/logger.ts';
import { compareEventIds, EVENT_LOG_LENGTH, type EventLog, type LoggedEvent } from './event-log.ts';

type StreamEntry = [id: string, fields: string[]];

function decode([id, fields]: StreamEntry): LoggedEvent {
  const value = (name: string) => fields[fields.indexOf(name) + 1] ?? 'null';
  return { id, event: JSON.parse(value('event')) as HubEvent, channels: JSON.parse(value('channels')) as string[] };
}

/**
 * A Redis stream shared by every instance. Each instance follows it with one blocking reader,
 * which survives Redis outages and continues from the last id it saw.
 */
export class RedisEventLog implements EventLog {
  private readonly listeners = new Set<(entry: LoggedEvent) => void>();
  private readonly reader: Redis;
  private closed = false;
  private signalClosed!: () => void;
  /** Resolves on close: a read queued while Redis is away never settles, so the follower races it against this. */
  private readonly closing = new Promise<null>((resolve) => (this.signalClosed = () => resolve(null)));
  /** The id the follower starts after: the tip when this log was made. */
  private readonly start: Promise<string>;
  private readonly following: Promise<void>;

  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    private readonly logger: Logger,
    private readonly length = EVENT_LOG_LENGTH,
  ) {
    this.reader = redis.duplicate({ connectionName: 'slotcast:events-reader', maxRetriesPerRequest: null });
    this.reader.on('error', () => {
      // The command connection reports Redis errors; this one only waits on XREAD.
    });
    this.start = this.tip().catch((error: unknown) => {
      // Follow from "now" instead: SSE resumes across the gap fall back to a snapshot, nothing is lost.
      logger.warn({ err: error }, 'could not read the event log tip; following new events only');
      return '$';
    });
    this.following = this.follow();
  }

  async ready(): Promise<void> {
    await this.start;
  }

  async append(entries: { event: HubEvent; channels: string[] }[]): Promise<string[]> {
    if (entries.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const { event, channels } of entries) {
      pipeline.xadd(this.key, 'MAXLEN', '~', String(this.length), '*', 'event', JSON.stringify(event), 'channels', JSON.stringify(channels));
    }
    const results = (await pipeline.exec()) ?? [];
    return results.map(([error, id]) => {
      if (error) throw error;
      return String(id);
    });
  }

  async after(id: string): Promise<LoggedEvent[] | undefined> {
    const info = await this.streamInfo();
    if (!info) return compareEventIds(id, '0-0') === 0 ? [] : undefined;
    // Newer than anything this stream made: the id is from another history (Redis restarted).
    if (compareEventIds(id, info.lastGenerated) > 0) return undefined;
    // Once anything was trimmed, an id before the first held entry may have missed events.
    if (info.trimmed && info.firstId && compareEventIds(id, info.firstId) < 0) return undefined;
    const entries = (await this.redis.xrange(this.key, `(${id}`, '+')) as StreamEntry[];
    return entries.map(decode);
  }

  private async streamInfo(): Promise<{ lastGenerated: string; firstId?: string; trimmed: boolean } | undefined> {
    let reply: unknown[];
    try {
      reply = (await this.redis.xinfo('STREAM', this.key)) as unknown[];
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

  async tip(): Promise<string> {
    const [last] = (await this.redis.xrevrange(this.key, '+', '-', 'COUNT', 1)) as StreamEntry[];
    return last?.[0] ?? '0-0';
  }

  subscribe(listener: (entry: LoggedEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private async follow(): Promise<void> {
    let last = await this.start;
    let failures = 0;
    while (!this.closed) {
      try {
        const read = this.reader.xread('COUNT', 500, 'BLOCK', 5_000, 'STREAMS', this.key, last) as Promise<
          [string, StreamEntry[]][] | null
        >;
        // After close, a queued read may still fail; that failure is expected and must not go unhandled.
        read.catch(() => null);
        const reply = await Promise.race([read, this.closing]);
        failures = 0;
        for (const entry of reply?.[0]?.[1] ?? []) {
          last = entry[0];
          const decoded = decode(entry);
          for (const listener of this.listeners) listener(decoded);
        }
      } catch (error) {
        if (this.closed) break;
        failures += 1;
        if (failures === 1) this.logger.warn({ err: (error as Error).message }, 'event stream reader lost Redis; retrying');
        const backoff = new Promise((resolve) => setTimeout(resolve, Math.min(2_000, 100 * 2 ** Math.min(failures, 5))));
        await Promise.race([backoff, this.closing]);
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.signalClosed();
    this.listeners.clear();
    this.reader.disconnect();
    await this.following;
  }
}

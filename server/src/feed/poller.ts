import type { Collection } from 'mongoose';
import type { Models } from '../db/models.ts';
import type { Logger } from '../observability/logger.ts';
import type { FeedEvent } from './translate.ts';

export interface PollerHooks {
  bookings(events: FeedEvent[]): Promise<void>;
  sessions(events: FeedEvent[]): Promise<void>;
  overrides(events: FeedEvent[]): Promise<void>;
  /** Polling cannot see deleted bookings; a periodic resync covers them. */
  resync(reason: string): void;
}

/** Bookings whose updatedAt moved back by less than this (clock skew between writers) are still seen. */
const OVERLAP_MS = 2_000;
const RESYNC_EVERY_MS = 30_000;

type Doc = Record<string, unknown> & { _id: unknown };

/**
 * The change feed where change streams do not exist (a standalone mongod): bookings by
 * updatedAt, sessions and overrides (small collections) by comparing them whole, deletes of
 * bookings by a periodic resync.
 */
export class Poller {
  private timer: NodeJS.Timeout | undefined;
  private since = new Date(0);
  private readonly seen = new Map<string, number>();
  private readonly snapshots = { sessions: new Map<string, string>(), overrides: new Map<string, string>() };
  private lastResync = Date.now();
  private stopped = false;
  private polling: Promise<void> = Promise.resolve();

  constructor(
    private readonly models: Models,
    private readonly hooks: PollerHooks,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    const latest = await this.models.Booking.findOne().sort({ updatedAt: -1 }).select({ updatedAt: 1 }).lean();
    this.since = latest?.updatedAt ?? new Date(0);
    await this.diff(this.models.Session.collection, this.snapshots.sessions);
    await this.diff(this.models.SessionOverride.collection, this.snapshots.overrides);
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.polling = this.poll()
        .catch((error: unknown) => this.logger.warn({ err: error }, 'poll failed; trying again'))
        .finally(() => this.schedule());
    }, this.intervalMs);
  }

  private async poll(): Promise<void> {
    const docs = await this.models.Booking.find({ updatedAt: { $gte: new Date(this.since.getTime() - OVERLAP_MS) } })
      .sort({ updatedAt: 1 })
      .limit(5_000)
      .lean<(Doc & { updatedAt: Date })[]>();
    const fresh = docs.filter((doc) => this.seen.get(String(doc._id)) !== doc.updatedAt.getTime());
    for (const doc of fresh) this.seen.set(String(doc._id), doc.updatedAt.getTime());
    if (docs.length > 0) this.since = docs.at(-1)!.updatedAt;
    this.forgetOlderThan(this.since.getTime() - OVERLAP_MS * 2);
    if (fresh.length > 0) await this.hooks.bookings(fresh.map((doc) => ({ operationType: 'update', documentKey: { _id: doc._id }, fullDocument: doc })));

    const sessions = await this.diff(this.models.Session.collection, this.snapshots.sessions);
    if (sessions.length > 0) await this.hooks.sessions(sessions);
    const overrides = await this.diff(this.models.SessionOverride.collection, this.snapshots.overrides);
    if (overrides.length > 0) await this.hooks.overrides(overrides);
    if (Date.now() - this.lastResync > RESYNC_EVERY_MS) {
      this.lastResync = Date.now();
      this.hooks.resync('polling mode: periodic resync for deleted bookings');
    }
  }

  private forgetOlderThan(ms: number): void {
    for (const [id, at] of this.seen) if (at < ms) this.seen.delete(id);
  }

  /** Compares a whole (small) collection with its last copy; returns insert/update/delete events. */
  private async diff(collection: Collection, last: Map<string, string>): Promise<FeedEvent[]> {
    const docs = (await collection.find().toArray()) as Doc[];
    const events: FeedEvent[] = [];
    const now = new Set<string>();
    for (const doc of docs) {
      const id = String(doc._id);
      const text = JSON.stringify(doc);
      now.add(id);
      if (last.get(id) !== text) events.push({ operationType: last.has(id) ? 'update' : 'insert', documentKey: { _id: doc._id }, fullDocument: doc });
      last.set(id, text);
    }
    for (const id of [...last.keys()].filter((id) => !now.has(id))) {
      events.push({ operationType: 'delete', documentKey: { _id: id }, fullDocument: null });
      last.delete(id);
    }
    return events;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.polling;
  }
}

import type { Collection } from 'mongoose';
import type { Models } from '../db/models.ts';
import type { MappedDocuments } from '../schema/collections.ts';
import { valueAt } from '../schema/documents.ts';
import type { Logger } from '../observability/logger.ts';
import type { FeedEvent } from './translate.ts';

export interface PollerHooks {
  bookings(events: FeedEvent[]): Promise<void>;
  holds(events: FeedEvent[]): Promise<void>;
  waitlist(events: FeedEvent[]): Promise<void>;
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
 * Follows one collection by its updatedAt field (a path of the mapping for bookings): each poll
 * hands on the documents written since the last one, once each. A document without a Date there
 * is not seen until a resync.
 */
class UpdatedAtCursor {
  private since = new Date(0);
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly collection: Collection,
    private readonly updatedAt = 'updatedAt',
  ) {}

  private at(doc: Doc): Date {
    return valueAt(doc, this.updatedAt) as Date;
  }

  async start(): Promise<void> {
    const [latest] = (await this.collection.find({ [this.updatedAt]: { $type: 'date' } }, { projection: { [this.updatedAt]: 1 } }).sort({ [this.updatedAt]: -1 }).limit(1).toArray()) as Doc[];
    this.since = latest ? this.at(latest) : new Date(0);
  }

  async next(): Promise<FeedEvent[]> {
    const docs = (await this.collection
      .find({ [this.updatedAt]: { $gte: new Date(this.since.getTime() - OVERLAP_MS) } })
      .sort({ [this.updatedAt]: 1 })
      .limit(5_000)
      .toArray()) as Doc[];
    const fresh = docs.filter((doc) => this.seen.get(String(doc._id)) !== this.at(doc).getTime());
    for (const doc of fresh) this.seen.set(String(doc._id), this.at(doc).getTime());
    if (docs.length > 0) this.since = this.at(docs.at(-1)!);
    const forget = this.since.getTime() - OVERLAP_MS * 2;
    for (const [id, at] of this.seen) if (at < forget) this.seen.delete(id);
    return fresh.map((doc) => ({ operationType: 'update', documentKey: { _id: doc._id }, fullDocument: doc }));
  }
}

/**
 * The change feed where change streams do not exist (a standalone mongod): bookings, holds and
 * waitlist entries by updatedAt, sessions and overrides (small collections) by comparing them whole, deletes of
 * bookings by a periodic resync.
 */
export class Poller {
  private timer: NodeJS.Timeout | undefined;
  private readonly cursors: { bookings: UpdatedAtCursor; holds: UpdatedAtCursor; waitlist: UpdatedAtCursor };
  private readonly snapshots = { sessions: new Map<string, string>(), overrides: new Map<string, string>() };
  private lastResync = Date.now();
  private stopped = false;
  private polling: Promise<void> = Promise.resolve();

  constructor(
    private readonly models: Models,
    private readonly documents: MappedDocuments,
    private readonly hooks: PollerHooks,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {
    this.cursors = {
      bookings: new UpdatedAtCursor(documents.collections.bookings, documents.mapping.schema.bookings.fields.updatedAt),
      holds: new UpdatedAtCursor(models.Hold.collection),
      waitlist: new UpdatedAtCursor(models.Waitlist.collection),
    };
  }

  async start(): Promise<void> {
    await Promise.all(Object.values(this.cursors).map((cursor) => cursor.start()));
    await this.diff(this.documents.collections.sessions, this.snapshots.sessions);
    await this.diff(this.documents.collections.overrides, this.snapshots.overrides);
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
    for (const name of ['bookings', 'holds', 'waitlist'] as const) {
      const events = await this.cursors[name].next();
      if (events.length > 0) await this.hooks[name](events);
    }

    const sessions = await this.diff(this.documents.collections.sessions, this.snapshots.sessions);
    if (sessions.length > 0) await this.hooks.sessions(sessions);
    const overrides = await this.diff(this.documents.collections.overrides, this.snapshots.overrides);
    if (overrides.length > 0) await this.hooks.overrides(overrides);
    if (Date.now() - this.lastResync > RESYNC_EVERY_MS) {
      this.lastResync = Date.now();
      this.hooks.resync('polling mode: periodic resync for deleted bookings');
    }
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

import { Types } from 'mongoose';
import { keyOf, uniqueKeys, type IsoDate, type Key } from '@slotcast/shared';
import type { Models } from '../db/models.ts';
import type { DocumentMapping, Raw } from '../schema/documents.ts';
import { mappedDocuments, type DocumentCollections, type MappedDocuments } from '../schema/collections.ts';
import type { OverrideInfo, SessionInfo } from './rules.ts';

export interface Scope {
  from: IsoDate;
  to: IsoDate;
  /** Limit to these sessions; undefined means all. */
  sessionIds?: string[];
}


type Group<T> = { _id: { s: unknown; d: unknown; q: unknown } } & T;

/**
 * Reads of the three collections that availability is computed from, through the mapping: every
 * filter and grouping is built from its field paths, and a document that does not fit it (a
 * missing or mistyped field, a quantity that is no positive whole number, a date that is no
 * calendar date) counts nowhere.
 */
export class AvailabilityReader {
  private readonly collections: DocumentCollections;
  private readonly mapping: DocumentMapping;

  /** Without `documents`: the default names on the models' connection. */
  constructor(
    private readonly models: Models,
    documents: MappedDocuments = mappedDocuments(models.Hold.db),
  ) {
    this.collections = documents.collections;
    this.mapping = documents.mapping;
  }

  private get booking() {
    return this.mapping.schema.bookings;
  }

  async sessions(): Promise<SessionInfo[]> {
    const docs = (await this.collections.sessions.find({}).toArray()) as Raw[];
    return docs.flatMap((doc) => this.mapping.noted('sessions', doc, this.mapping.session(doc)) ?? []);
  }

  /** Overrides in scope, by `sessionId:date`. */
  async overrides(scope: Scope): Promise<Map<string, OverrideInfo>> {
    const f = this.mapping.schema.overrides.fields;
    const docs = (await this.collections.overrides
      .find({
        [f.date]: this.mapping.dateRange(scope.from, scope.to),
        ...(scope.sessionIds ? { [f.sessionId]: { $in: this.mapping.storedSessionIds(scope.sessionIds) } } : {}),
      })
      .toArray()) as Raw[];
    const out = new Map<string, OverrideInfo>();
    for (const doc of docs) {
      const read = this.mapping.noted('overrides', doc, this.mapping.override(doc));
      if (read) out.set(keyOf(read.key), { capacity: read.capacity, closed: read.closed });
    }
    return out;
  }

  /**
   * The filter of bookings that may count: active, in scope, of the stored types. Values a filter
   * cannot check (a calendar date, a whole quantity) are checked on each group (DocumentMapping).
   */
  private countable(scope: { from: IsoDate; to?: IsoDate; sessionIds?: string[] }): Record<string, unknown> {
    const f = this.booking.fields;
    return {
      [f.date]: this.mapping.dateRange(scope.from, scope.to),
      [f.status]: { $in: this.booking.activeStatuses },
      [f.userId]: { $type: 'string' },
      [f.quantity]: { $gte: 1 },
      [f.sessionId]: scope.sessionIds ? { $in: this.mapping.storedSessionIds(scope.sessionIds) } : { $type: this.mapping.sessionIdType },
    };
  }

  /** Groups by stored session id, date and quantity; folds the groups that fit into `sessionId:date`. */
  private async grouped<T extends object>(match: Record<string, unknown>, extra: Record<string, unknown>, fold: (key: string, places: number, row: Group<T>) => void) {
    const f = this.booking.fields;
    const rows = (await this.collections.bookings
      .aggregate([{ $match: match }, { $group: { _id: { s: `$${f.sessionId}`, d: `$${f.date}`, q: `$${f.quantity}` }, ...extra } }])
      .toArray()) as Group<T>[];
    for (const row of rows) {
      const key = this.mapping.keyFrom(row._id.s, row._id.d);
      const places = this.mapping.placesOf(row._id.q);
      if (key && places > 0) fold(keyOf(key), places, row);
    }
  }

  /** Sum of active quantities in scope, by `sessionId:date`: one aggregation for the whole scope. */
  async booked(scope: Scope): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    await this.grouped<{ n: number }>(this.countable(scope), { n: { $sum: 1 } }, (key, places, row) => out.set(key, (out.get(key) ?? 0) + places * row.n));
    return out;
  }

  /**
   * Places in active holds in scope, by key: one aggregation. A hold counts while it is active and
   * unexpired, and also past its expiry once a confirm has begun (it carries a bookingId): its
   * places pass to the booking without a moment in which neither counts.
   */
  async held(scope: Scope, now = new Date()): Promise<Map<string, number>> {
    const rows = await this.models.Hold.aggregate<{ _id: { s: unknown; d: string }; held: number }>([
      {
        $match: {
          date: { $gte: scope.from, $lte: scope.to },
          status: 'active',
          $or: [{ expiresAt: { $gt: now } }, { bookingId: { $exists: true } }],
          ...(scope.sessionIds ? { sessionId: { $in: scope.sessionIds.map((id) => new Types.ObjectId(id)) } } : {}),
        },
      },
      { $group: { _id: { s: '$sessionId', d: '$date' }, held: { $sum: '$quantity' } } },
    ]);
    return new Map(rows.map((row) => [keyOf({ sessionId: String(row._id.s), date: row._id.d }), row.held]));
  }

  /** Active bookings created since `since`, counted by `sessionId:date`. */
  async recentBookings(since: Date, scope: Scope): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    const match = { ...this.countable(scope), [this.booking.fields.createdAt]: { $gte: since } };
    await this.grouped<{ n: number }>(match, { n: { $sum: 1 } }, (key, _places, row) => out.set(key, (out.get(key) ?? 0) + row.n));
    return out;
  }

  /** Users holding an active booking on each key (their private rooms get its changes): one aggregation. */
  async holdersOf(keys: Key[]): Promise<Map<string, string[]>> {
    if (keys.length === 0) return new Map();
    const dates = keys.map((key) => key.date).sort();
    const wanted = new Set(keys.map(keyOf));
    const users = new Map<string, Set<string>>();
    const match = this.countable({ from: dates[0]!, to: dates.at(-1)!, sessionIds: [...new Set(keys.map((key) => key.sessionId))] });
    await this.grouped<{ users: string[] }>(match, { users: { $addToSet: `$${this.booking.fields.userId}` } }, (key, _places, row) => {
      if (!wanted.has(key)) return;
      const set = users.get(key) ?? new Set<string>();
      for (const user of row.users) set.add(user);
      users.set(key, set);
    });
    return new Map([...users].map(([key, set]) => [key, [...set]]));
  }

  /** A user's active bookings from `from` on, as keys. */
  async upcomingKeysOf(userId: string, from: IsoDate, limit = 200): Promise<Key[]> {
    const f = this.booking.fields;
    const docs = (await this.collections.bookings
      .find({ ...this.countable({ from }), [f.userId]: userId })
      .sort({ [f.date]: 1 })
      .limit(limit)
      .toArray()) as Raw[];
    return uniqueKeys(docs.flatMap((doc) => {
      const read = this.mapping.booking(doc);
      return read.ok && read.value.active ? [read.value.key] : [];
    }));
  }
}

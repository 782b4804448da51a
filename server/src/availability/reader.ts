import { Types } from 'mongoose';
import { ACTIVE_BOOKING_STATUS, keyOf, uniqueKeys, type IsoDate, type Key } from '@slotcast/shared';
import type { Models, SessionDoc } from '../db/models.ts';
import type { OverrideInfo, SessionInfo } from './rules.ts';

export interface Scope {
  from: IsoDate;
  to: IsoDate;
  /** Limit to these sessions; undefined means all. */
  sessionIds?: string[];
}

const ACTIVE = [...ACTIVE_BOOKING_STATUS];

function toSessionInfo(doc: SessionDoc): SessionInfo {
  return {
    id: String(doc._id),
    name: doc.name,
    startTime: doc.startTime,
    endTime: doc.endTime,
    capacity: doc.capacity,
    daysOfWeek: doc.daysOfWeek ?? undefined,
    active: doc.active ?? true,
  };
}

const objectIds = (ids: string[]) => ids.map((id) => new Types.ObjectId(id));

/** Reads of the three collections that availability is computed from. */
export class AvailabilityReader {
  constructor(private readonly models: Models) {}

  async sessions(): Promise<SessionInfo[]> {
    const docs = await this.models.Session.find().lean<SessionDoc[]>();
    return docs.map(toSessionInfo);
  }

  /** Overrides in scope, by `sessionId:date`. */
  async overrides(scope: Scope): Promise<Map<string, OverrideInfo>> {
    const docs = await this.models.SessionOverride.find({
      date: { $gte: scope.from, $lte: scope.to },
      ...(scope.sessionIds ? { sessionId: { $in: objectIds(scope.sessionIds) } } : {}),
    }).lean();
    return new Map(docs.map((doc) => [keyOf({ sessionId: String(doc.sessionId), date: doc.date }), { capacity: doc.capacity, closed: doc.closed }]));
  }

  /** Sum of active quantities in scope, by `sessionId:date`: one aggregation for the whole scope. */
  async booked(scope: Scope): Promise<Map<string, number>> {
    const rows = await this.models.Booking.aggregate<{ _id: { s: Types.ObjectId; d: string }; booked: number }>([
      {
        $match: {
          date: { $gte: scope.from, $lte: scope.to },
          status: { $in: ACTIVE },
          // A quantity below 1 (a writer's mistake) takes no place and must not give any back.
          quantity: { $gte: 1 },
          ...(scope.sessionIds ? { sessionId: { $in: objectIds(scope.sessionIds) } } : {}),
        },
      },
      { $group: { _id: { s: '$sessionId', d: '$date' }, booked: { $sum: '$quantity' } } },
    ]);
    return new Map(rows.map((row) => [keyOf({ sessionId: String(row._id.s), date: row._id.d }), row.booked]));
  }

  /**
   * Places in active holds in scope, by key: one aggregation. A hold counts while it is active and
   * unexpired, and also past its expiry once a confirm has begun (it carries a bookingId): its
   * places pass to the booking without a moment in which neither counts.
   */
  async held(scope: Scope, now = new Date()): Promise<Map<string, number>> {
    const rows = await this.models.Hold.aggregate<{ _id: { s: Types.ObjectId; d: string }; held: number }>([
      {
        $match: {
          date: { $gte: scope.from, $lte: scope.to },
          status: 'active',
          $or: [{ expiresAt: { $gt: now } }, { bookingId: { $exists: true } }],
          ...(scope.sessionIds ? { sessionId: { $in: objectIds(scope.sessionIds) } } : {}),
        },
      },
      { $group: { _id: { s: '$sessionId', d: '$date' }, held: { $sum: '$quantity' } } },
    ]);
    return new Map(rows.map((row) => [keyOf({ sessionId: String(row._id.s), date: row._id.d }), row.held]));
  }

  /** Active bookings created since `since`, counted by `sessionId:date`. */
  async recentBookings(since: Date, scope: Scope): Promise<Map<string, number>> {
    const rows = await this.models.Booking.aggregate<{ _id: { s: Types.ObjectId; d: string }; n: number }>([
      {
        $match: {
          date: { $gte: scope.from, $lte: scope.to },
          ...(scope.sessionIds ? { sessionId: { $in: objectIds(scope.sessionIds) } } : {}),
          status: { $in: ACTIVE },
          createdAt: { $gte: since },
        },
      },
      { $group: { _id: { s: '$sessionId', d: '$date' }, n: { $sum: 1 } } },
    ]);
    return new Map(rows.map((row) => [keyOf({ sessionId: String(row._id.s), date: row._id.d }), row.n]));
  }

  /** Users holding an active booking on each key (their private rooms get its changes): one aggregation. */
  async holdersOf(keys: Key[]): Promise<Map<string, string[]>> {
    if (keys.length === 0) return new Map();
    const dates = keys.map((key) => key.date).sort();
    const wanted = new Set(keys.map(keyOf));
    const rows = await this.models.Booking.aggregate<{ _id: { s: Types.ObjectId; d: string }; users: string[] }>([
      {
        $match: {
          sessionId: { $in: objectIds([...new Set(keys.map((key) => key.sessionId))]) },
          date: { $gte: dates[0], $lte: dates.at(-1) },
          status: { $in: ACTIVE },
        },
      },
      { $group: { _id: { s: '$sessionId', d: '$date' }, users: { $addToSet: '$userId' } } },
    ]);
    return new Map(
      rows
        .map((row) => [keyOf({ sessionId: String(row._id.s), date: row._id.d }), row.users] as const)
        .filter(([key]) => wanted.has(key)),
    );
  }

  /** A user's active bookings from `from` on, as keys. */
  async upcomingKeysOf(userId: string, from: IsoDate, limit = 200): Promise<Key[]> {
    const docs = await this.models.Booking.find({ userId, date: { $gte: from }, status: { $in: ACTIVE } })
      .sort({ date: 1 })
      .limit(limit)
      .select({ sessionId: 1, date: 1 })
      .lean();
    return uniqueKeys(docs.map((doc) => ({ sessionId: String(doc.sessionId), date: doc.date })));
  }
}

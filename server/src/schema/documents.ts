import { Types } from 'mongoose';
import { BOOKING_STATUS, HH_MM, OBJECT_ID, addDays, isIsoDate, todayIn, type BookingStatus, type IsoDate, type Key } from '@slotcast/shared';
import type { OverrideInfo, SessionInfo } from '../availability/rules.ts';
import type { DocumentSchema } from './mapping.ts';
import type { MisfitReason, Misfits } from './misfits.ts';
import { zonedMidnight } from './zoned.ts';

export type Raw = Record<string, unknown>;
/** A document read through the schema: its value, or why it does not fit (with its key when that much was readable). */
export type Read<T> = { ok: true; value: T } | { ok: false; reason: MisfitReason; path: string; key?: Key };

export interface BookingRead {
  id: string;
  key: Key;
  userId: string;
  quantity: number;
  /** The stored status, and whether it takes places. */
  stored: string;
  active: boolean;
  /** The contract's name for it (booking.updated, bookings.cancel). */
  status: BookingStatus;
}
export interface OverrideRead extends OverrideInfo {
  id: string;
  key: Key;
}

/** The value at a dotted path (`slot.day`), undefined where any part is missing. */
export function valueAt(doc: Raw | null | undefined, path: string): unknown {
  let value: unknown = doc;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Raw)[part];
  }
  return value;
}

/** Sets a dotted path, making the sub-documents on the way. */
function setAt(doc: Raw, path: string, value: unknown): void {
  const parts = path.split('.');
  let at = doc;
  for (const part of parts.slice(0, -1)) at = (at[part] ??= {}) as Raw;
  at[parts.at(-1)!] = value;
}

const isObjectId = (value: unknown): value is Types.ObjectId =>
  typeof value === 'object' && value !== null && (value as { _bsontype?: string })._bsontype === 'ObjectId';
const isWhole = (value: unknown, min: number): value is number => typeof value === 'number' && Number.isInteger(value) && value >= min;

/**
 * The one place that knows collection and field names: reads raw documents into the hub's
 * shapes (or a misfit reason), and builds the filters, groupings and writes the queries need.
 * Typed once from SCHEMA_FILE (or the defaults) and handed to every part that touches documents.
 */
export class DocumentMapping {
  constructor(
    readonly schema: DocumentSchema,
    readonly timeZone: string,
    readonly misfits?: Misfits,
  ) {}

  get collections() {
    return { sessions: this.schema.sessions.collection, bookings: this.schema.bookings.collection, overrides: this.schema.overrides.collection };
  }

  /** A session document's id as the hub's keys spell it (24 hex, lower case); ObjectId or hex string, whatever types.sessionId. */
  idOf(doc: Raw): string | undefined {
    const id = doc._id;
    if (isObjectId(id)) return id.toHexString();
    return typeof id === 'string' && OBJECT_ID.test(id) ? id.toLowerCase() : undefined;
  }

  // ---- reading -------------------------------------------------------------------------------

  private sessionRef(value: unknown, path: string): { id: string } | { reason: MisfitReason; path: string } {
    if (value === undefined || value === null) return { reason: 'missing:sessionId', path };
    if (this.schema.types.sessionId === 'objectId') return isObjectId(value) ? { id: value.toHexString() } : { reason: 'mistyped:sessionId', path };
    if (typeof value !== 'string') return { reason: 'mistyped:sessionId', path };
    return OBJECT_ID.test(value) ? { id: value.toLowerCase() } : { reason: 'invalid:sessionId', path };
  }

  private day(value: unknown, path: string): { date: IsoDate } | { reason: MisfitReason; path: string } {
    if (value === undefined || value === null) return { reason: 'missing:date', path };
    if (this.schema.types.date === 'date') {
      if (!(value instanceof Date)) return { reason: 'mistyped:date', path };
      return Number.isNaN(value.getTime()) ? { reason: 'invalid:date', path } : { date: todayIn(this.timeZone, value) };
    }
    if (typeof value !== 'string') return { reason: 'mistyped:date', path };
    return isIsoDate(value) ? { date: value } : { reason: 'invalid:date', path };
  }

  private keyOf(doc: Raw, fields: { sessionId: string; date: string }): { key: Key } | { reason: MisfitReason; path: string } {
    const ref = this.sessionRef(valueAt(doc, fields.sessionId), fields.sessionId);
    if ('reason' in ref) return ref;
    const day = this.day(valueAt(doc, fields.date), fields.date);
    if ('reason' in day) return day;
    return { key: { sessionId: ref.id, date: day.date } };
  }

  /** The key an aggregation's group stands for (its stored session id and date), or undefined when those do not fit. */
  keyFrom(sessionId: unknown, date: unknown): Key | undefined {
    const ref = this.sessionRef(sessionId, '');
    const day = this.day(date, '');
    return 'id' in ref && 'date' in day ? { sessionId: ref.id, date: day.date } : undefined;
  }

  /** What a whole group of bookings of one quantity counts for: a quantity that is no positive whole number counts nothing. */
  placesOf(quantity: unknown): number {
    return isWhole(quantity, 1) ? quantity : 0;
  }

  booking(doc: Raw): Read<BookingRead> {
    const f = this.schema.bookings.fields;
    const keyed = this.keyOf(doc, f);
    if ('reason' in keyed) return { ok: false, ...keyed };
    const miss = (reason: MisfitReason, path: string): Read<BookingRead> => ({ ok: false, reason, path, key: keyed.key });
    const userId = valueAt(doc, f.userId);
    const quantity = valueAt(doc, f.quantity);
    const stored = valueAt(doc, f.status);
    if (userId === undefined || userId === null) return miss('missing:userId', f.userId);
    if (typeof userId !== 'string' || userId.length === 0) return miss('mistyped:userId', f.userId);
    if (quantity === undefined || quantity === null) return miss('missing:quantity', f.quantity);
    if (typeof quantity !== 'number') return miss('mistyped:quantity', f.quantity);
    if (!isWhole(quantity, 1)) return miss('invalid:quantity', f.quantity);
    if (stored === undefined || stored === null) return miss('missing:status', f.status);
    if (typeof stored !== 'string' || stored.length === 0) return miss('mistyped:status', f.status);
    const active = this.schema.bookings.activeStatuses.includes(stored);
    return { ok: true, value: { id: String(doc._id), key: keyed.key, userId, quantity, stored, active, status: this.contractStatus(stored, active) } };
  }

  /**
   * The contract speaks four statuses; a stored one is told as: its own name when it is one of
   * them and agrees on being active; writeStatuses as what they stand for; any other active one
   * as pending, any other inactive one as cancelled.
   */
  contractStatus(stored: string, active: boolean): BookingStatus {
    const { writeStatuses } = this.schema.bookings;
    if (stored === writeStatuses.confirmed) return 'confirmed';
    if (stored === writeStatuses.cancelled) return 'cancelled';
    const named = BOOKING_STATUS.find((status) => status === stored);
    if (named && (named === 'pending' || named === 'confirmed') === active) return named;
    return active ? 'pending' : 'cancelled';
  }

  session(doc: Raw): Read<SessionInfo> {
    const f = this.schema.sessions.fields;
    const id = this.idOf(doc);
    if (!id) return { ok: false, reason: 'mistyped:_id', path: '_id' };
    const name = valueAt(doc, f.name);
    const startTime = valueAt(doc, f.startTime);
    const endTime = valueAt(doc, f.endTime);
    const capacity = valueAt(doc, f.capacity);
    const days = valueAt(doc, f.daysOfWeek);
    const active = valueAt(doc, f.active);
    const check = (value: unknown, field: keyof typeof f, fits: (v: unknown) => boolean, present: (v: unknown) => boolean): MisfitReason | undefined => {
      if (value === undefined || value === null) return `missing:${field}`;
      if (!present(value)) return `mistyped:${field}`;
      return fits(value) ? undefined : `invalid:${field}`;
    };
    const problems: [MisfitReason | undefined, string][] = [
      [check(name, 'name', (v) => (v as string).length > 0, (v) => typeof v === 'string'), f.name],
      [check(startTime, 'startTime', (v) => HH_MM.test(v as string), (v) => typeof v === 'string'), f.startTime],
      [check(endTime, 'endTime', (v) => HH_MM.test(v as string), (v) => typeof v === 'string'), f.endTime],
      [check(capacity, 'capacity', (v) => isWhole(v, 0), (v) => typeof v === 'number'), f.capacity],
      [days === undefined || days === null ? undefined : check(days, 'daysOfWeek', (v) => (v as unknown[]).every((day) => isWhole(day, 0) && (day as number) <= 6), Array.isArray), f.daysOfWeek],
      [active === undefined || active === null ? undefined : check(active, 'active', () => true, (v) => typeof v === 'boolean'), f.active],
    ];
    const problem = problems.find(([reason]) => reason !== undefined);
    if (problem) return { ok: false, reason: problem[0]!, path: problem[1] };
    return {
      ok: true,
      value: {
        id,
        name: name as string,
        startTime: startTime as string,
        endTime: endTime as string,
        capacity: capacity as number,
        daysOfWeek: (days as number[] | null | undefined) ?? undefined,
        active: (active as boolean | null | undefined) ?? true,
      },
    };
  }

  override(doc: Raw): Read<OverrideRead> {
    const f = this.schema.overrides.fields;
    const keyed = this.keyOf(doc, f);
    if ('reason' in keyed) return { ok: false, ...keyed };
    const capacity = valueAt(doc, f.capacity);
    const closed = valueAt(doc, f.closed);
    if (capacity !== undefined && capacity !== null && typeof capacity !== 'number') return { ok: false, reason: 'mistyped:capacity', path: f.capacity, key: keyed.key };
    if (typeof capacity === 'number' && !isWhole(capacity, 0)) return { ok: false, reason: 'invalid:capacity', path: f.capacity, key: keyed.key };
    if (closed !== undefined && closed !== null && typeof closed !== 'boolean') return { ok: false, reason: 'mistyped:closed', path: f.closed, key: keyed.key };
    return { ok: true, value: { id: String(doc._id), key: keyed.key, capacity: capacity as number | null | undefined, closed: closed as boolean | null | undefined } };
  }

  /** Counts a misfit (once per document and reason) or forgets an earlier one; answers the value when it fits. */
  noted<T>(collection: 'sessions' | 'bookings' | 'overrides', doc: Raw, read: Read<T>): T | undefined {
    const name = this.collections[collection];
    if (read.ok) {
      this.misfits?.fits(name, String(doc._id));
      return read.value;
    }
    this.misfits?.report(name, String(doc._id), read.reason, read.path);
    return undefined;
  }

  // ---- writing -------------------------------------------------------------------------------

  /** A booking the hub makes (a guarded booking, a confirmed hold), as stored: your paths, types and writeStatuses.confirmed. */
  newBooking(booking: { _id: Types.ObjectId; sessionId: string; date: IsoDate; userId: string; quantity: number }, now = new Date()): Raw {
    const f = this.schema.bookings.fields;
    const doc: Raw = { _id: booking._id };
    setAt(doc, f.sessionId, this.storedSessionId(booking.sessionId));
    setAt(doc, f.date, this.storedDate(booking.date));
    setAt(doc, f.userId, booking.userId);
    setAt(doc, f.quantity, booking.quantity);
    setAt(doc, f.status, this.schema.bookings.writeStatuses.confirmed);
    setAt(doc, f.createdAt, now);
    setAt(doc, f.updatedAt, now);
    return doc;
  }

  /** The conditional update that cancels an active booking: the filter (active statuses) and the change (writeStatuses.cancelled). */
  cancelling(id: unknown, now = new Date()): { filter: Raw & { _id: unknown }; update: Raw } {
    const f = this.schema.bookings.fields;
    return {
      filter: { _id: id, [f.status]: { $in: this.schema.bookings.activeStatuses } },
      update: { $set: { [f.status]: this.schema.bookings.writeStatuses.cancelled, [f.updatedAt]: now } },
    };
  }

  // ---- querying ------------------------------------------------------------------------------

  /** The stored forms of session ids (an id written in upper case by another program matches too). */
  storedSessionIds(ids: string[]): unknown[] {
    if (this.schema.types.sessionId === 'objectId') return ids.map((id) => new Types.ObjectId(id));
    return [...new Set(ids.flatMap((id) => [id.toLowerCase(), id.toUpperCase()]))];
  }

  storedSessionId(id: string): unknown {
    return this.schema.types.sessionId === 'objectId' ? new Types.ObjectId(id) : id.toLowerCase();
  }

  /** A filter on the stored date for the calendar dates from..to; a BSON Date day is [midnight of from, midnight after to) in TIMEZONE. */
  dateRange(from: IsoDate, to?: IsoDate): Record<string, unknown> {
    if (this.schema.types.date === 'string') return to === undefined ? { $gte: from } : { $gte: from, $lte: to };
    const start = zonedMidnight(from, this.timeZone);
    return to === undefined ? { $gte: start } : { $gte: start, $lt: zonedMidnight(addDays(to, 1), this.timeZone) };
  }

  storedDate(date: IsoDate): unknown {
    return this.schema.types.date === 'string' ? date : zonedMidnight(date, this.timeZone);
  }

  /** The stored type of session references, for $type: documents of another type are misfits. */
  get sessionIdType(): 'objectId' | 'string' {
    return this.schema.types.sessionId;
  }
}

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Types, type Connection, type mongo } from 'mongoose';

/**
 * The two schemas every shared suite runs against: the default names, and a mapped one (a class
 * studio's `reservations` with string class ids, BSON Date days in Europe/Paris, `seats`, statuses
 * held/paid/void, nested field paths in sessions and bookings, overrides of its own names). Each
 * comes with a small writer that knows its layout by hand, so the tests do not write through the
 * code they test.
 */
export type Status = 'pending' | 'confirmed' | 'cancelled' | 'expired';

export interface SessionInput { _id: Types.ObjectId; name: string; startTime: string; endTime: string; capacity: number; daysOfWeek?: number[]; active?: boolean }
export interface BookingInput { _id?: Types.ObjectId; sessionId: string; date: string; userId: string; quantity: number; status: Status; createdAt?: Date }
export interface OverrideInput { sessionId: string; date: string; capacity?: number; closed?: boolean }

export interface SchemaCase {
  name: string;
  /** Environment for the hub (SCHEMA_FILE, TIMEZONE); empty for the default. */
  env: Record<string, string>;
  collections: { sessions: string; bookings: string; overrides: string };
  /** The stored status for each contract status, and which stored ones are active. */
  stored: Record<Status, string>;
  active: string[];
  /** A raw document of this layout (for misfits: start from it and break one field). */
  sessionDoc(input: SessionInput): Record<string, unknown>;
  bookingDoc(input: BookingInput): Record<string, unknown>;
  overrideDoc(input: OverrideInput): Record<string, unknown>;
  /** Paths, for updates and for reading back what the hub wrote. */
  paths: { sessionId: string; date: string; userId: string; quantity: string; status: string; updatedAt: string; sessionName: string };
  /** Every field's path, by the hub's field names, for updates written by field. */
  fieldPaths: { sessions: Record<string, string>; bookings: Record<string, string>; overrides: Record<string, string> };
  /** A stored date value read back as a calendar date; a stored session id as hex. */
  dateOf(value: unknown): string | undefined;
  sessionIdOf(value: unknown): string | undefined;
  storedDate(date: string): unknown;
  storedSessionId(id: string): unknown;
}

const PARIS = 'Europe/Paris';
const parisDate = new Intl.DateTimeFormat('en-CA', { timeZone: PARIS, year: 'numeric', month: '2-digit', day: '2-digit' });

export const defaultCase: SchemaCase = {
  name: 'default names',
  env: {},
  collections: { sessions: 'sessions', bookings: 'bookings', overrides: 'session_overrides' },
  stored: { pending: 'pending', confirmed: 'confirmed', cancelled: 'cancelled', expired: 'expired' },
  active: ['pending', 'confirmed'],
  sessionDoc: ({ _id, name, startTime, endTime, capacity, daysOfWeek, active }) => ({ _id, name, startTime, endTime, capacity, ...(daysOfWeek ? { daysOfWeek } : {}), ...(active === undefined ? {} : { active }) }),
  bookingDoc: ({ _id, sessionId, date, userId, quantity, status, createdAt = new Date() }) => ({
    _id: _id ?? new Types.ObjectId(),
    sessionId: new Types.ObjectId(sessionId),
    date,
    userId,
    quantity,
    status,
    createdAt,
    updatedAt: createdAt,
  }),
  overrideDoc: ({ sessionId, date, capacity, closed }) => ({ sessionId: new Types.ObjectId(sessionId), date, ...(capacity === undefined ? {} : { capacity }), ...(closed === undefined ? {} : { closed }) }),
  paths: { sessionId: 'sessionId', date: 'date', userId: 'userId', quantity: 'quantity', status: 'status', updatedAt: 'updatedAt', sessionName: 'name' },
  fieldPaths: {
    sessions: { name: 'name', startTime: 'startTime', endTime: 'endTime', capacity: 'capacity', daysOfWeek: 'daysOfWeek', active: 'active' },
    bookings: { sessionId: 'sessionId', date: 'date', userId: 'userId', quantity: 'quantity', status: 'status', createdAt: 'createdAt', updatedAt: 'updatedAt' },
    overrides: { sessionId: 'sessionId', date: 'date', capacity: 'capacity', closed: 'closed' },
  },
  dateOf: (value) => (typeof value === 'string' ? value : undefined),
  sessionIdOf: (value) => (value instanceof Types.ObjectId ? value.toHexString() : undefined),
  storedDate: (date) => date,
  storedSessionId: (id) => new Types.ObjectId(id),
};

export const STUDIO_MAPPING = {
  sessions: { collection: 'classes', fields: { name: 'title', startTime: 'times.start', endTime: 'times.end', capacity: 'places', daysOfWeek: 'weekdays', active: 'published' } },
  bookings: {
    collection: 'reservations',
    fields: { sessionId: 'classId', date: 'day', userId: 'customer.id', quantity: 'seats', status: 'state', createdAt: 'created', updatedAt: 'modified' },
    activeStatuses: ['held', 'paid'],
    writeStatuses: { confirmed: 'paid', cancelled: 'void' },
  },
  overrides: { collection: 'class_exceptions', fields: { sessionId: 'classId', date: 'day', capacity: 'seats', closed: 'cancelled' } },
  types: { sessionId: 'string', date: 'date' },
};

/** Noon in Paris (13:00 or 14:00 in summer, UTC+1/+2 either way the same calendar day): an outside writer's timestamp, not midnight. */
const parisNoon = (date: string) => new Date(`${date}T12:00:00+01:00`);

export function studioCase(): SchemaCase {
  const dir = mkdtempSync(join(tmpdir(), 'slotcast-schema-'));
  const file = join(dir, 'studio.json');
  writeFileSync(file, JSON.stringify(STUDIO_MAPPING, null, 2));
  return {
    name: 'a mapped schema (reservations, string ids, BSON Date days)',
    env: { SCHEMA_FILE: file, TIMEZONE: PARIS },
    collections: { sessions: 'classes', bookings: 'reservations', overrides: 'class_exceptions' },
    stored: { pending: 'held', confirmed: 'paid', cancelled: 'void', expired: 'void' },
    active: ['held', 'paid'],
    sessionDoc: ({ _id, name, startTime, endTime, capacity, daysOfWeek, active }) => ({
      _id,
      title: name,
      times: { start: startTime, end: endTime },
      places: capacity,
      ...(daysOfWeek ? { weekdays: daysOfWeek } : {}),
      ...(active === undefined ? {} : { published: active }),
    }),
    bookingDoc: ({ _id, sessionId, date, userId, quantity, status, createdAt = new Date() }) => ({
      _id: _id ?? new Types.ObjectId(),
      classId: sessionId,
      day: parisNoon(date),
      customer: { id: userId, note: 'walk-in' },
      seats: quantity,
      state: { pending: 'held', confirmed: 'paid', cancelled: 'void', expired: 'void' }[status],
      created: createdAt,
      modified: createdAt,
    }),
    overrideDoc: ({ sessionId, date, capacity, closed }) => ({ classId: sessionId, day: parisNoon(date), ...(capacity === undefined ? {} : { seats: capacity }), ...(closed === undefined ? {} : { cancelled: closed }) }),
    paths: { sessionId: 'classId', date: 'day', userId: 'customer.id', quantity: 'seats', status: 'state', updatedAt: 'modified', sessionName: 'title' },
    fieldPaths: {
      sessions: STUDIO_MAPPING.sessions.fields,
      bookings: STUDIO_MAPPING.bookings.fields,
      overrides: STUDIO_MAPPING.overrides.fields,
    },
    dateOf: (value) => (value instanceof Date ? parisDate.format(value) : undefined),
    sessionIdOf: (value) => (typeof value === 'string' && /^[0-9a-f]{24}$/i.test(value) ? value.toLowerCase() : undefined),
    storedDate: parisNoon,
    storedSessionId: (id) => id,
  };
}

/** Writes documents of one schema case on a connection. */
export function writerFor(connection: Connection, c: SchemaCase) {
  const collection = (name: string) => connection.collection(name);
  return {
    sessions: (docs: SessionInput[]) => collection(c.collections.sessions).insertMany(docs.map(c.sessionDoc)),
    bookings: (docs: BookingInput[]) => collection(c.collections.bookings).insertMany(docs.map(c.bookingDoc)),
    overrides: (docs: OverrideInput[]) => collection(c.collections.overrides).insertMany(docs.map(c.overrideDoc)),
    /** One booking; answers its id. */
    booking: async (input: Omit<BookingInput, '_id'>) => {
      const _id = new Types.ObjectId();
      await collection(c.collections.bookings).insertOne(c.bookingDoc({ ...input, _id }));
      return _id;
    },
    override: async (input: OverrideInput) => (await collection(c.collections.overrides).insertOne(c.overrideDoc(input))).insertedId,
    /** Any raw document (a misfit). */
    raw: (part: 'sessions' | 'bookings' | 'overrides', doc: Record<string, unknown>) => collection(c.collections[part]).insertOne(doc),
    updateBooking: (id: Types.ObjectId, set: Record<string, unknown>) =>
      collection(c.collections.bookings).updateOne({ _id: id } as mongo.Filter<mongo.Document>, { $set: { ...set, [c.paths.updatedAt]: new Date() } }),
    setStatus: (id: Types.ObjectId, status: Status) =>
      collection(c.collections.bookings).updateOne({ _id: id } as mongo.Filter<mongo.Document>, { $set: { [c.paths.status]: c.stored[status], [c.paths.updatedAt]: new Date() } }),
    moveBooking: (id: Types.ObjectId, sessionId: string, date: string) =>
      collection(c.collections.bookings).updateOne({ _id: id } as mongo.Filter<mongo.Document>, {
        $set: { [c.paths.sessionId]: c.storedSessionId(sessionId), [c.paths.date]: c.storedDate(date), [c.paths.updatedAt]: new Date() },
      }),
    /**
     * An update written by the hub's field names, in this case's layout: `{ quantity: 5 }`,
     * `{ sessionId, date }` (stored in this case's types), `{ status: 'cancelled' }` (its stored name).
     * Bookings get their updatedAt too, as a writer following the contract would set it.
     */
    set: (part: 'sessions' | 'bookings' | 'overrides', id: unknown, fields: Record<string, unknown>) => {
      const stored = Object.entries(fields).map(([field, value]) => {
        const path = c.fieldPaths[part][field]!;
        if (field === 'sessionId') return [path, c.storedSessionId(String(value))];
        if (field === 'date') return [path, c.storedDate(String(value))];
        if (field === 'status' && part === 'bookings') return [path, c.stored[value as Status]];
        return [path, value];
      });
      if (part === 'bookings') stored.push([c.paths.updatedAt, new Date()]);
      return collection(c.collections[part]).updateOne({ _id: id } as mongo.Filter<mongo.Document>, { $set: Object.fromEntries(stored) });
    },
    replaceBooking: (id: Types.ObjectId, input: Omit<BookingInput, '_id'>) =>
      collection(c.collections.bookings).replaceOne({ _id: id } as mongo.Filter<mongo.Document>, c.bookingDoc({ ...input, _id: id })),
    remove: (part: 'sessions' | 'bookings' | 'overrides', id: unknown) => collection(c.collections[part]).deleteOne({ _id: id } as mongo.Filter<mongo.Document>),
    renameSession: (id: Types.ObjectId, name: string) =>
      collection(c.collections.sessions).updateOne({ _id: id } as mongo.Filter<mongo.Document>, { $set: { [c.paths.sessionName]: name } }),
  };
}

/** A stored booking read back by this case's layout, by hand: its session id (hex), calendar date, user, quantity and stored status. */
export interface StoredBooking { _id: unknown; sessionId?: string; date?: string; userId: unknown; quantity: unknown; status: unknown }

export async function storedBookings(connection: Connection, c: SchemaCase, filter: Record<string, unknown> = {}): Promise<StoredBooking[]> {
  const docs = await connection.collection(c.collections.bookings).find(filter as mongo.Filter<mongo.Document>).toArray();
  const at = (doc: Record<string, unknown>, path: string) => path.split('.').reduce<unknown>((v, p) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[p] : undefined), doc);
  return docs.map((doc) => ({
    _id: doc._id,
    sessionId: c.sessionIdOf(at(doc, c.paths.sessionId)),
    date: c.dateOf(at(doc, c.paths.date)),
    userId: at(doc, c.paths.userId),
    quantity: at(doc, c.paths.quantity),
    status: at(doc, c.paths.status),
  }));
}

/**
 * An independent count: active places per `sessionId:date`, straight from the raw booking
 * documents by this case's layout (a document with a field of the wrong type, a quantity that is
 * no positive whole number or no calendar date counts nothing).
 */
export async function countedByHand(connection: Connection, c: SchemaCase): Promise<Map<string, number>> {
  const docs = await connection.collection(c.collections.bookings).find({}).toArray();
  const at = (doc: Record<string, unknown>, path: string) => path.split('.').reduce<unknown>((v, p) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[p] : undefined), doc);
  const out = new Map<string, number>();
  for (const doc of docs) {
    const sessionId = c.sessionIdOf(at(doc, c.paths.sessionId));
    const date = c.dateOf(at(doc, c.paths.date));
    const quantity = at(doc, c.paths.quantity);
    const status = at(doc, c.paths.status);
    const userId = at(doc, c.paths.userId);
    if (!sessionId || !date || !/^\d{4}-\d{2}-\d{2}$/.test(date) || Number.isNaN(Date.parse(`${date}T00:00:00Z`)) || new Date(`${date}T00:00:00Z`).toISOString().slice(0, 10) !== date) continue;
    if (typeof quantity !== 'number' || !Number.isInteger(quantity) || quantity < 1 || typeof userId !== 'string' || typeof status !== 'string' || !c.active.includes(status)) continue;
    const key = `${sessionId}:${date}`;
    out.set(key, (out.get(key) ?? 0) + quantity);
  }
  return out;
}

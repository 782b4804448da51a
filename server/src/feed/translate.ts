import { OBJECT_ID, addDays, datesInRange, holdSchema, keyOf, waitlistEntrySchema, type Hold, type IsoDate, type Key, type WaitlistEntry } from '@slotcast/shared';
import type { Work } from './coalescer.ts';
import type { KeyIndex } from './key-index.ts';
import type { DocumentMapping, Raw } from '../schema/documents.ts';

/** The parts of a change event the feed reads; both change streams and the poller produce these. */
export interface FeedEvent {
  operationType: 'insert' | 'update' | 'replace' | 'delete' | string;
  documentKey?: { _id: unknown };
  fullDocument?: Record<string, unknown> | null;
  fullDocumentBeforeChange?: Record<string, unknown> | null;
  updateDescription?: { updatedFields?: Record<string, unknown>; removedFields?: string[] };
}

export interface Translation {
  work: Work[];
  /** Set when an event's old key could not be known (no pre-image, not in the index): recompute the horizon. */
  needsResync?: string;
}

/**
 * The changed document's id. mongo-java-server puts the update operator in `documentKey` on
 * updates, so the looked-up document's `_id` comes first; a real MongoDB gives both.
 */
export function documentId(event: FeedEvent): string | undefined {
  const id = event.fullDocument?._id ?? event.documentKey?._id;
  if (id === undefined || id === null) return undefined;
  const usable = typeof id !== 'object' || 'toHexString' in id;
  return usable ? String(id) : undefined;
}

export function keyOfDoc(doc: Record<string, unknown> | null | undefined): Key | undefined {
  if (!doc || doc.sessionId == null || typeof doc.date !== 'string') return undefined;
  return { sessionId: String(doc.sessionId).toLowerCase(), date: doc.date };
}

interface Moved {
  id: string;
  doc: Record<string, unknown> | null | undefined;
  next?: Key;
  /** The key it had before this event, when different from `next`. */
  previous?: Key;
}

/** Whether an update touched a field path: the path itself, a part of it (`slot` of `slot.day`), or inside it. */
export function touches(event: FeedEvent, paths: string[]): boolean {
  const changed = [...Object.keys(event.updateDescription?.updatedFields ?? {}), ...(event.updateDescription?.removedFields ?? [])];
  return changed.some((field) => paths.some((path) => field === path || path.startsWith(`${field}.`) || field.startsWith(`${path}.`)));
}

/** How a collection keyed by (sessionId, date) is read: the key of a document (undefined when it has none that fits) and the paths of its key fields. */
interface Keyed {
  keyOf(doc: Raw): Key | undefined;
  keyPaths: string[];
}

/**
 * For documents keyed by (sessionId, date): the key after each event from the document, the key
 * before it from the pre-image or the index, and the index kept up to date. A document whose key
 * does not fit the schema counts nowhere: it leaves the index and its old key is recomputed.
 */
async function trackKeys(events: FeedEvent[], index: KeyIndex, kind: string, keyed: Keyed): Promise<{ moves: Moved[]; needsResync?: string }> {
  const ids = events.map((event) => documentId(event) ?? '');
  const known = await index.get(ids);
  const seen: [string, Key][] = [];
  const gone: string[] = [];
  let needsResync: string | undefined;
  const moves = events.map((event, i): Moved => {
    const id = ids[i]!;
    const next = event.fullDocument ? keyed.keyOf(event.fullDocument) : undefined;
    const before = event.fullDocumentBeforeChange ? keyed.keyOf(event.fullDocumentBeforeChange) : undefined;
    const previous = before ?? known[i];
    if (next) {
      seen.push([id, next]);
      // A later event on the same document in this batch moves from here.
      ids.forEach((other, j) => j > i && other === id && (known[j] = next));
    }
    if (event.operationType === 'delete' || (event.fullDocument && !next)) gone.push(id);
    const keyFieldChanged = touches(event, keyed.keyPaths);
    if (!id || (!previous && (event.operationType === 'delete' || keyFieldChanged))) {
      needsResync = `${kind} ${id} ${event.operationType} with an unknown earlier key`;
    }
    const moved = previous && (!next || keyOf(previous) !== keyOf(next)) ? previous : undefined;
    return { id, doc: event.fullDocument, next, previous: moved };
  });
  await index.set(seen);
  await index.delete(gone);
  return { moves, needsResync };
}

/** The key a booking or override counts on, when its key fields fit (the rest of it may not: it is then recomputed, and counts nothing). */
const keyedBy = (mapping: DocumentMapping, part: 'bookings' | 'overrides'): Keyed => {
  const read = (doc: Raw) => (part === 'bookings' ? mapping.booking(doc) : mapping.override(doc));
  const { sessionId, date } = mapping.schema[part].fields;
  return {
    keyOf: (doc) => {
      const result = read(doc);
      return result.ok ? result.value.key : result.key;
    },
    keyPaths: [sessionId, date],
  };
};

/**
 * bookings: recompute the old and new keys; the owner hears about the booking itself, only when
 * it fits the schema (a misfit is counted in /metrics and claims no state it does not have).
 */
export async function translateBookings(events: FeedEvent[], index: KeyIndex, mapping: DocumentMapping): Promise<Translation> {
  const { moves, needsResync } = await trackKeys(events, index, 'booking', keyedBy(mapping, 'bookings'));
  const work = moves.flatMap(({ id, doc, next, previous }): Work[] => {
    const booking = doc ? mapping.noted('bookings', doc, mapping.booking(doc)) : undefined;
    return [
      ...(next && booking
        ? [{ key: next, reason: 'booking' as const, booking: { bookingId: id, userId: booking.userId, sessionId: next.sessionId, date: next.date, status: booking.status, quantity: booking.quantity } }]
        : next
          ? [{ key: next, reason: 'booking' as const }]
          : []),
      ...(previous ? [{ key: previous, reason: 'booking' as const }] : []),
    ];
  });
  return { work, needsResync };
}

/**
 * holds: recompute the hold's key; its owner hears about the hold. Holds are written by the hub
 * only and never change key; a deleted one (a clean-up long after it ended) counts nowhere, so
 * deletes are passed over.
 */
export async function translateHolds(events: FeedEvent[], waitlist: WaitlistLookups | undefined): Promise<Translation> {
  const work: Work[] = [];
  for (const event of events) {
    const doc = event.fullDocument;
    const key = keyOfDoc(doc);
    const hold = doc && key ? holdOfEvent(doc, key) : undefined;
    if (!hold || !key) continue;
    const owner = { userId: hold.userId, sessionId: key.sessionId, date: key.date };
    work.push({ key, reason: 'hold', owner: { kind: 'hold', ...owner, hold } });
    // A waitlist offer is announced when its hold is written (the entry was claimed just before):
    // a hold never changed since (createdAt = updatedAt), as a stream's insert or a poll's first sight.
    const fresh = doc!.createdAt instanceof Date && doc!.updatedAt instanceof Date && doc!.createdAt.getTime() === doc!.updatedAt.getTime();
    const entry = fresh && hold.source === 'waitlist' && hold.status === 'active' ? await waitlist?.entryOfHold(hold.holdId) : undefined;
    if (entry) work.push({ key, reason: 'hold', owner: { kind: 'entry', ...owner, entry, position: null, hold } });
  }
  return { work };
}

/** What the waitlist's events need from the waitlist: positions, and the entry an offer's hold belongs to. */
export interface WaitlistLookups {
  entryOfHold(holdId: string): Promise<WaitlistEntry | undefined>;
  positionOfEntry(entryId: string): Promise<number | null>;
}

/** waitlist: the owner hears of every status change of their entry, with its position. */
export async function translateWaitlist(events: FeedEvent[], waitlist: WaitlistLookups): Promise<Translation> {
  const work: Work[] = [];
  for (const event of events) {
    const doc = event.fullDocument;
    const key = keyOfDoc(doc);
    // The hub changes an entry only to change its status, so every event is a status change
    // (mongo-java-server's update events carry no usable updateDescription to tell otherwise).
    if (!doc || !key || event.operationType === 'delete') continue;
    const parsed = waitlistEntrySchema.safeParse({
      entryId: String(doc._id),
      sessionId: key.sessionId,
      date: key.date,
      userId: doc.userId,
      quantity: doc.quantity,
      status: doc.status,
      ...(doc.holdId ? { holdId: String(doc.holdId) } : {}),
    });
    if (!parsed.success) continue;
    const entry = parsed.data;
    const position = await waitlist.positionOfEntry(entry.entryId);
    work.push({ key, reason: 'hold', owner: { kind: 'entry', userId: entry.userId, sessionId: key.sessionId, date: key.date, entry, position } });
  }
  return { work };
}

export function holdOfEvent(doc: Record<string, unknown>, key: Key): Hold | undefined {
  const parsed = holdSchema.safeParse({
    holdId: String(doc._id),
    sessionId: key.sessionId,
    date: key.date,
    userId: doc.userId,
    quantity: doc.quantity,
    // A hold past its expiry that no sweep has marked yet is expired to its owner.
    status: doc.status === 'active' && doc.expiresAt instanceof Date && doc.expiresAt <= new Date() && !doc.bookingId ? 'expired' : doc.status,
    expiresAt: doc.expiresAt instanceof Date ? doc.expiresAt.toISOString() : undefined,
    source: doc.source,
    ...(doc.bookingId ? { bookingId: String(doc.bookingId) } : {}),
  });
  return parsed.success ? parsed.data : undefined;
}

/** session_overrides: recompute the old and new keys. */
export async function translateOverrides(events: FeedEvent[], index: KeyIndex, mapping: DocumentMapping): Promise<Translation> {
  const { moves, needsResync } = await trackKeys(events, index, 'override', keyedBy(mapping, 'overrides'));
  for (const { doc } of moves) if (doc) mapping.noted('overrides', doc, mapping.override(doc));
  const work = moves.flatMap(({ next, previous }) =>
    [next, previous].filter((key): key is Key => key !== undefined).map((key) => ({ key, reason: 'override' as const })),
  );
  return { work, needsResync };
}

/** sessions: every date of the horizon, since capacity, times and weekdays may all have changed. */
export function translateSessions(events: FeedEvent[], horizon: { from: IsoDate; to: IsoDate }): Translation {
  const found = events.map(documentId);
  const sessionIds = [...new Set(found.filter((id): id is string => id !== undefined && OBJECT_ID.test(id)).map((id) => id.toLowerCase()))];
  const dates = datesInRange(horizon.from, horizon.to);
  return {
    work: sessionIds.flatMap((sessionId) => dates.map((date) => ({ key: { sessionId, date }, reason: 'session' as const }))),
    needsResync: found.some((id) => !id || !OBJECT_ID.test(id)) ? 'a session change without a usable id' : undefined,
  };
}

/** The dates the feed keeps exact after a gap: yesterday through `days` ahead. */
export function horizonOf(today: IsoDate, days: number): { from: IsoDate; to: IsoDate } {
  return { from: addDays(today, -1), to: addDays(today, days) };
}

import type { Booking, Hold, Key } from '@slotcast/shared';
import type { BookingDoc, HoldDoc } from '../db/models.ts';

/** The contract's `hold` of a stored document. */
export function holdOf(doc: HoldDoc): Hold {
  return {
    holdId: String(doc._id),
    sessionId: String(doc.sessionId),
    date: doc.date,
    userId: doc.userId,
    quantity: doc.quantity,
    status: doc.status,
    expiresAt: doc.expiresAt.toISOString(),
    source: doc.source,
    ...(doc.bookingId ? { bookingId: String(doc.bookingId) } : {}),
  };
}

/** The contract's `booking` of a stored document. */
export function bookingOf(doc: Pick<BookingDoc, '_id' | 'sessionId' | 'date' | 'userId' | 'quantity' | 'status'>): Booking {
  return {
    bookingId: String(doc._id),
    sessionId: String(doc.sessionId),
    date: doc.date,
    userId: doc.userId,
    quantity: doc.quantity,
    status: doc.status,
  };
}

/** The key a stored hold or booking counts on. */
export const keyOfDoc = (doc: { sessionId: { toString(): string }; date: string }): Key => ({ sessionId: String(doc.sessionId), date: doc.date });

import { Types, type mongo } from 'mongoose';
import type { Booking, SessionAvailability } from '@slotcast/shared';
import { NotFoundError } from '../availability/errors.ts';
import { hasRole, type Principal } from '../auth/tokens.ts';
import { keyOfDoc } from './docs.ts';
import type { Raw } from '../schema/documents.ts';
import { ForbiddenError, GuardError } from './errors.ts';
import { CONFIRM_GRACE_MS, type GuardParts, type Holds } from './holds.ts';
import type { Waitlist } from './waitlist.ts';
import { GUARD_REASON } from '@slotcast/shared';

/**
 * Guarded bookings: a booking made here takes its places through the same ledger as a hold (as
 * a hold that is confirmed at once), so it can never oversell either.
 */
export class Bookings {
  constructor(
    private readonly parts: GuardParts,
    private readonly holds: Holds,
    private readonly waitlist: Waitlist,
  ) {}

  async create(principal: Principal, input: { sessionId: string; date: string; quantity: number; idempotencyKey?: string }): Promise<{ booking: Booking; availability: SessionAvailability }> {
    return this.parts.idempotent.run({ userId: principal.userId, procedure: 'bookings.create', key: input.idempotencyKey }, async (holdId, resumed) => {
      // Resumed: the failed run may have written its hold (and booking); completing that hold again is idempotent.
      const written = resumed ? await this.parts.models.Hold.findOne({ _id: holdId, userId: principal.userId, bookingId: { $exists: true } }).lean() : null;
      const hold =
        written ??
        (await this.holds.take(holdId, input, principal.userId, input.quantity, {
          expiresAt: new Date(Date.now() + CONFIRM_GRACE_MS),
          source: 'api',
          bookingId: new Types.ObjectId(),
        }));
      const booking = await this.holds.complete(hold);
      return { booking, availability: await this.parts.reads.fresh(keyOfDoc(hold)) };
    });
  }

  /** Cancels an active booking (the hub's or any writer's); its places come back at once, to the waitlist first. */
  async cancel(principal: Principal, input: { bookingId: string }): Promise<{ booking: Booking; availability: SessionAvailability }> {
    const { reads, documents } = this.parts;
    const { mapping, collections } = documents;
    // Another program's ids may be strings; the hub's are ObjectIds.
    const found = (await collections.bookings.findOne({ _id: { $in: [new Types.ObjectId(input.bookingId), input.bookingId] } } as mongo.Filter<mongo.Document>)) as Raw | null;
    if (!found) throw new NotFoundError(`no booking ${input.bookingId}`);
    const current = mapping.noted('bookings', found, mapping.booking(found));
    // A booking that does not fit the schema counts nowhere: there are no places to give back.
    if (!current) throw new GuardError(GUARD_REASON.BOOKING_INACTIVE, `booking ${input.bookingId} does not fit the schema, so it counts in no availability`);
    if (current.userId !== principal.userId && !hasRole(principal, 'staff', 'admin')) throw new ForbiddenError(`booking ${input.bookingId} is someone else's`);
    const { filter, update } = mapping.cancelling(found._id);
    const { modifiedCount } = await collections.bookings.updateOne(filter as mongo.Filter<mongo.Document>, update);
    if (modifiedCount === 0) throw new GuardError(GUARD_REASON.BOOKING_INACTIVE, `booking ${input.bookingId} is no longer active (${current.status})`);
    const after = (await collections.bookings.findOne({ _id: found._id } as mongo.Filter<mongo.Document>)) as Raw | null;
    const read = after ? mapping.booking(after) : undefined;
    const doc = read?.ok ? read.value : { ...current, status: 'cancelled' as const };
    await this.waitlist.placesBack([doc.key]);
    return {
      booking: { bookingId: doc.id, sessionId: doc.key.sessionId, date: doc.key.date, userId: doc.userId, quantity: doc.quantity, status: doc.status },
      availability: await reads.fresh(doc.key),
    };
  }
}

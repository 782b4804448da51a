import { Types } from 'mongoose';
import type { Booking, SessionAvailability } from '@slotcast/shared';
import { NotFoundError } from '../availability/errors.ts';
import { hasRole, type Principal } from '../auth/tokens.ts';
import { bookingOf, keyOfDoc, updateIf } from './docs.ts';
import type { BookingDoc } from '../db/models.ts';
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
    const { models, reads } = this.parts;
    const current = await models.Booking.findById(input.bookingId).lean();
    if (!current) throw new NotFoundError(`no booking ${input.bookingId}`);
    if (current.userId !== principal.userId && !hasRole(principal, 'staff', 'admin')) throw new ForbiddenError(`booking ${input.bookingId} is someone else's`);
    const doc = await updateIf<BookingDoc>(models.Booking, { _id: current._id, status: { $in: ['pending', 'confirmed'] } }, { $set: { status: 'cancelled', updatedAt: new Date() } });
    if (!doc) throw new GuardError(GUARD_REASON.BOOKING_INACTIVE, `booking ${input.bookingId} is no longer active (${current.status})`);
    const key = { sessionId: String(doc.sessionId), date: doc.date };
    await this.waitlist.placesBack([key]);
    return { booking: bookingOf(doc), availability: await reads.fresh(key) };
  }
}

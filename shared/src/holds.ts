import { z } from 'zod';
import { BOOKING_STATUS, sessionAvailabilitySchema } from './availability.ts';
import { isoDateSchema, objectIdSchema } from './schemas.ts';

export const HOLD_STATUS = ['active', 'confirmed', 'released', 'expired'] as const;
export type HoldStatus = (typeof HOLD_STATUS)[number];

export const HOLD_SOURCE = ['api', 'waitlist'] as const;
export type HoldSource = (typeof HOLD_SOURCE)[number];

/** `error.data.reason` of a CONFLICT from a guarded write. */
export const GUARD_REASON = {
  /** Not enough places; `error.data.available` says how many there are. */
  INSUFFICIENT: 'INSUFFICIENT',
  /** The hold expired, was released or was confirmed already. */
  HOLD_INACTIVE: 'HOLD_INACTIVE',
  /** The booking was cancelled or expired already. */
  BOOKING_INACTIVE: 'BOOKING_INACTIVE',
  /** The user is on this key's waitlist already. */
  ALREADY_WAITING: 'ALREADY_WAITING',
  /** The waitlist entry was accepted, expired or left already. */
  ENTRY_INACTIVE: 'ENTRY_INACTIVE',
  /** The session runs closed on that date. */
  CLOSED: 'CLOSED',
  /** The same idempotency key is still being served by another call; retry with the same key. */
  IN_PROGRESS: 'IN_PROGRESS',
} as const;
export type GuardReason = (typeof GUARD_REASON)[keyof typeof GUARD_REASON];

/** Longest idempotency key accepted. */
export const MAX_IDEMPOTENCY_KEY = 128;
const idempotencyKey = z.string().min(1).max(MAX_IDEMPOTENCY_KEY).optional();
const quantity = z.number().int().min(1).max(10_000);

export const holdSchema = z.object({
  holdId: objectIdSchema,
  sessionId: objectIdSchema,
  date: isoDateSchema,
  userId: z.string(),
  quantity: z.number().int().min(1),
  status: z.enum(HOLD_STATUS),
  expiresAt: z.string(),
  source: z.enum(HOLD_SOURCE),
  bookingId: objectIdSchema.optional(),
});
export type Hold = z.infer<typeof holdSchema>;

export const bookingSchema = z.object({
  bookingId: objectIdSchema,
  sessionId: objectIdSchema,
  date: isoDateSchema,
  userId: z.string(),
  quantity: z.number().int().min(1),
  status: z.enum(BOOKING_STATUS),
});
export type Booking = z.infer<typeof bookingSchema>;

/** `hold.updated` on the owner's channel: every change of one of their holds. */
export const holdUpdateSchema = z.object({ hold: holdSchema, availability: sessionAvailabilitySchema });
export type HoldUpdate = z.infer<typeof holdUpdateSchema>;

export const createHoldInput = z.strictObject({
  sessionId: objectIdSchema,
  date: isoDateSchema,
  quantity,
  ttlSeconds: z.number().int().optional(),
  idempotencyKey,
});
export const extendHoldInput = z.strictObject({ holdId: objectIdSchema, ttlSeconds: z.number().int() });
export const holdIdInput = z.strictObject({ holdId: objectIdSchema });
export const confirmHoldInput = z.strictObject({ holdId: objectIdSchema, idempotencyKey });
export const createBookingInput = z.strictObject({ sessionId: objectIdSchema, date: isoDateSchema, quantity, idempotencyKey });
export const cancelBookingInput = z.strictObject({ bookingId: objectIdSchema });
export const noInput = z.strictObject({}).optional();

export type CreateHoldInput = z.infer<typeof createHoldInput>;
export type CreateBookingInput = z.infer<typeof createBookingInput>;

export const WAITLIST_STATUS = ['waiting', 'offered', 'accepted', 'expired', 'left'] as const;
export type WaitlistStatus = (typeof WAITLIST_STATUS)[number];

export const waitlistEntrySchema = z.object({
  entryId: objectIdSchema,
  sessionId: objectIdSchema,
  date: isoDateSchema,
  userId: z.string(),
  quantity: z.number().int().min(1),
  status: z.enum(WAITLIST_STATUS),
  holdId: objectIdSchema.optional(),
});
export type WaitlistEntry = z.infer<typeof waitlistEntrySchema>;

/** `waitlist.updated`: an entry's status changed; `position` counts from 1 among waiting entries of the key (null once it is not waiting). */
export const waitlistUpdateSchema = z.object({ entry: waitlistEntrySchema, position: z.number().int().min(1).nullable() });
export type WaitlistUpdate = z.infer<typeof waitlistUpdateSchema>;

/** `waitlist.offer`: places were offered to the entry, as a hold with source waitlist. */
export const waitlistOfferSchema = z.object({ entry: waitlistEntrySchema, hold: holdSchema, availability: sessionAvailabilitySchema });
export type WaitlistOffer = z.infer<typeof waitlistOfferSchema>;

export const joinWaitlistInput = z.strictObject({ sessionId: objectIdSchema, date: isoDateSchema, quantity });
export const leaveWaitlistInput = z.strictObject({ entryId: objectIdSchema });

import { Schema, Types, type Connection, type InferSchemaType, type Model } from 'mongoose';
import { BOOKING_STATUS, HH_MM, HOLD_SOURCE, HOLD_STATUS, WAITLIST_STATUS, isIsoDate } from '@slotcast/shared';

const wholeNumber = (field: string) => ({
  validator: Number.isInteger,
  message: `${field} must be a whole number`,
});

const calendarDate = (field: string) => ({
  validator: (value: string) => isIsoDate(value),
  message: `${field} must be a real calendar date in YYYY-MM-DD form`,
});

const sessionSchema = new Schema(
  {
    name: { type: String, required: [true, 'name is required'], trim: true, maxlength: [200, 'name is at most 200 characters'] },
    startTime: { type: String, required: [true, 'startTime is required'], match: [HH_MM, 'startTime must be HH:mm'] },
    endTime: { type: String, required: [true, 'endTime is required'], match: [HH_MM, 'endTime must be HH:mm'] },
    capacity: {
      type: Number,
      required: [true, 'capacity is required'],
      min: [0, 'capacity must be at least 0'],
      validate: wholeNumber('capacity'),
    },
    daysOfWeek: {
      type: [Number],
      default: undefined,
      validate: {
        validator: (days: number[]) => days.every((day) => Number.isInteger(day) && day >= 0 && day <= 6),
        message: 'daysOfWeek must hold whole numbers from 0 (Sunday) to 6',
      },
    },
    active: { type: Boolean, default: true },
  },
  { collection: 'sessions', versionKey: false },
);
sessionSchema.index({ active: 1, startTime: 1 });

const bookingSchema = new Schema(
  {
    sessionId: { type: Schema.Types.ObjectId, required: [true, 'sessionId is required'] },
    date: { type: String, required: [true, 'date is required'], validate: calendarDate('date') },
    userId: { type: String, required: [true, 'userId is required'], minlength: 1, maxlength: [128, 'userId is at most 128 characters'] },
    quantity: {
      type: Number,
      required: [true, 'quantity is required'],
      min: [1, 'quantity must be at least 1'],
      validate: wholeNumber('quantity'),
    },
    status: {
      type: String,
      required: [true, 'status is required'],
      enum: { values: BOOKING_STATUS, message: `status must be one of ${BOOKING_STATUS.join(', ')}` },
      default: 'pending',
    },
  },
  { collection: 'bookings', versionKey: false, timestamps: true },
);
// Availability of one key, and of a whole date or range, reads active bookings by these fields.
bookingSchema.index({ sessionId: 1, date: 1, status: 1 });
bookingSchema.index({ date: 1, status: 1 });
// A user's upcoming bookings, for the private channel.
bookingSchema.index({ userId: 1, date: 1 });
// The polling fallback and high-demand windows read recent changes.
bookingSchema.index({ updatedAt: 1 });

const overrideSchema = new Schema(
  {
    sessionId: { type: Schema.Types.ObjectId, required: [true, 'sessionId is required'] },
    date: { type: String, required: [true, 'date is required'], validate: calendarDate('date') },
    capacity: { type: Number, min: [0, 'capacity must be at least 0'], validate: wholeNumber('capacity') },
    closed: { type: Boolean },
  },
  { collection: 'session_overrides', versionKey: false },
);
overrideSchema.index({ sessionId: 1, date: 1 }, { unique: true });
overrideSchema.index({ date: 1 });

/** Written by the hub only: places taken for a while (a checkout, a waitlist offer). */
const holdSchema = new Schema(
  {
    sessionId: { type: Schema.Types.ObjectId, required: true },
    date: { type: String, required: true },
    userId: { type: String, required: true },
    quantity: { type: Number, required: true },
    status: { type: String, required: true, enum: HOLD_STATUS },
    expiresAt: { type: Date, required: true },
    source: { type: String, required: true, enum: HOLD_SOURCE },
    bookingId: { type: Schema.Types.ObjectId },
  },
  { collection: 'holds', versionKey: false, timestamps: true },
);
// Held places of a key or range; the expiry sweep reads active holds by expiry.
holdSchema.index({ sessionId: 1, date: 1, status: 1 });
holdSchema.index({ status: 1, expiresAt: 1 });
holdSchema.index({ userId: 1, status: 1 });

/** Written by the hub only: who waits for places on a key, in join order. */
const waitlistSchema = new Schema(
  {
    sessionId: { type: Schema.Types.ObjectId, required: true },
    date: { type: String, required: true },
    userId: { type: String, required: true },
    quantity: { type: Number, required: true },
    status: { type: String, required: true, enum: WAITLIST_STATUS },
    holdId: { type: Schema.Types.ObjectId },
  },
  { collection: 'waitlist', versionKey: false, timestamps: true },
);
// The queue of a key, oldest first; a user's entries; offers by their hold.
waitlistSchema.index({ sessionId: 1, date: 1, status: 1, createdAt: 1 });
waitlistSchema.index({ userId: 1, status: 1 });
waitlistSchema.index({ holdId: 1 });

/**
 * The guard's serialization point, one document per key (see docs/architecture.md, "Guarded
 * writes"): `free` places, `claims` admitted but not yet visible as holds, and `rev`, bumped by
 * every change so a reconciliation from MongoDB's truth is a compare-and-set.
 */
const ledgerSchema = new Schema(
  {
    _id: { type: String, required: true },
    free: { type: Number, required: true },
    /** Free places minus those the waiting entries that fit are owed: what a plain hold may take. */
    open: { type: Number, required: true },
    rev: { type: Number, required: true },
    claims: [{ _id: false, id: { type: Schema.Types.ObjectId, required: true }, quantity: Number, at: Date }],
  },
  { collection: 'capacity_ledgers', versionKey: false },
);
ledgerSchema.index({ 'claims.at': 1 });

/** The first result of a call made with an idempotency key, for 24 hours. */
const idempotencySchema = new Schema(
  {
    _id: { type: String, required: true },
    /** The hold or booking the first call made (its id is chosen before it runs). */
    targetId: { type: Schema.Types.ObjectId, required: true },
    result: { type: Schema.Types.Mixed },
    error: { type: Schema.Types.Mixed },
    /** The call failed without an answer (part of its work may be written): the next retry runs it again for the same target. */
    failedAt: { type: Date },
    createdAt: { type: Date, required: true },
  },
  { collection: 'idempotency_keys', versionKey: false },
);
idempotencySchema.index({ createdAt: 1 }, { expireAfterSeconds: 24 * 3600 });

export type SessionDoc = InferSchemaType<typeof sessionSchema> & { _id: Types.ObjectId };
export type BookingDoc = InferSchemaType<typeof bookingSchema> & { _id: Types.ObjectId };
export type OverrideDoc = InferSchemaType<typeof overrideSchema> & { _id: Types.ObjectId };

export type HoldDoc = InferSchemaType<typeof holdSchema> & { _id: Types.ObjectId };
export type LedgerDoc = InferSchemaType<typeof ledgerSchema>;
export type WaitlistDoc = InferSchemaType<typeof waitlistSchema> & { _id: Types.ObjectId };
export type IdempotencyDoc = InferSchemaType<typeof idempotencySchema>;

export interface Models {
  Session: Model<SessionDoc>;
  Booking: Model<BookingDoc>;
  SessionOverride: Model<OverrideDoc>;
  Hold: Model<HoldDoc>;
  Ledger: Model<LedgerDoc>;
  Waitlist: Model<WaitlistDoc>;
  Idempotency: Model<IdempotencyDoc>;
}

/** Registers the collections on one connection, so two hubs can live in one process. */
export function createModels(connection: Connection): Models {
  return {
    Session: connection.model<SessionDoc>('Session', sessionSchema),
    Booking: connection.model<BookingDoc>('Booking', bookingSchema),
    SessionOverride: connection.model<OverrideDoc>('SessionOverride', overrideSchema),
    Hold: connection.model<HoldDoc>('Hold', holdSchema),
    Ledger: connection.model<LedgerDoc>('Ledger', ledgerSchema),
    Waitlist: connection.model<WaitlistDoc>('Waitlist', waitlistSchema),
    Idempotency: connection.model<IdempotencyDoc>('Idempotency', idempotencySchema),
  };
}


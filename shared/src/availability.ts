import { z } from 'zod';
import { isoDateSchema, objectIdSchema, timeOfDaySchema } from './schemas.ts';

export const AVAILABILITY_STATUS = ['available', 'low', 'full', 'closed'] as const;
export type AvailabilityStatus = (typeof AVAILABILITY_STATUS)[number];

export const BOOKING_STATUS = ['pending', 'confirmed', 'cancelled', 'expired'] as const;
export type BookingStatus = (typeof BOOKING_STATUS)[number];
export const ACTIVE_BOOKING_STATUS = ['pending', 'confirmed'] as const satisfies readonly BookingStatus[];

export const UPDATE_REASON = ['booking', 'session', 'override', 'refresh', 'hold'] as const;
export type UpdateReason = (typeof UPDATE_REASON)[number];

export const sessionAvailabilitySchema = z.object({
  sessionId: objectIdSchema,
  date: isoDateSchema,
  name: z.string(),
  startTime: timeOfDaySchema,
  endTime: timeOfDaySchema,
  capacity: z.number().int().min(0),
  booked: z.number().int().min(0),
  /** Places in active holds (checkouts, waitlist offers); 0 where there are none. */
  held: z.number().int().min(0),
  available: z.number().int().min(0),
  utilization: z.number().min(0),
  status: z.enum(AVAILABILITY_STATUS),
  overbooked: z.boolean(),
  version: z.number().int().min(0),
  updatedAt: z.string(),
});
export type SessionAvailability = z.infer<typeof sessionAvailabilitySchema>;

export const availabilityUpdateSchema = sessionAvailabilitySchema.extend({
  reason: z.enum(UPDATE_REASON),
});
export type AvailabilityUpdate = z.infer<typeof availabilityUpdateSchema>;

export const ALERT_TYPE = ['low_availability', 'no_availability', 'high_demand', 'places_available'] as const;
export type AlertType = (typeof ALERT_TYPE)[number];

export const alertSchema = z.object({
  type: z.enum(ALERT_TYPE),
  sessionId: objectIdSchema,
  date: isoDateSchema,
  capacity: z.number().int(),
  booked: z.number().int(),
  available: z.number().int(),
  utilization: z.number(),
  recentBookings: z.number().int().optional(),
  raisedAt: z.string(),
});
export type Alert = z.infer<typeof alertSchema>;

export const bookingUpdateSchema = z.object({
  bookingId: objectIdSchema,
  sessionId: objectIdSchema,
  date: isoDateSchema,
  status: z.enum(BOOKING_STATUS),
  quantity: z.number().int(),
  availability: sessionAvailabilitySchema,
});
export type BookingUpdate = z.infer<typeof bookingUpdateSchema>;

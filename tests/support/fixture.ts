import { Types } from 'mongoose';
import type { Models } from '../../server/src/db/models.ts';
import { writerFor, type SchemaCase, type Status } from './schemas.ts';

/**
 * A small schedule with every boundary the contract names. Dates: 2027-01-30 is a Saturday,
 * 2027-01-31 a Sunday, 2027-02-01 a Monday (a month end); 2028-02-29 is a leap day.
 */
export const ids = {
  swim: new Types.ObjectId('64b000000000000000000001'),
  yoga: new Types.ObjectId('64b000000000000000000002'),
  inactive: new Types.ObjectId('64b000000000000000000003'),
  spin: new Types.ObjectId('64b000000000000000000004'),
  unknown: '64b0000000000000000000ff',
};
export const id = (oid: Types.ObjectId) => String(oid);

export const SAT = '2027-01-30';
export const SUN = '2027-01-31';
export const MON = '2027-02-01';

/** The fixture's four classes and swim's two overrides (capacity 3 on Sunday, closed on Monday), in either layout. */
export async function writeSchedule(write: ReturnType<typeof writerFor>): Promise<void> {
  await write.sessions([
    { _id: ids.swim, name: 'Morning Swim', startTime: '07:00', endTime: '08:00', capacity: 10 },
    { _id: ids.yoga, name: 'Weekend Yoga', startTime: '09:00', endTime: '10:00', capacity: 5, daysOfWeek: [0, 6] },
    { _id: ids.inactive, name: 'Retired Class', startTime: '10:00', endTime: '11:00', capacity: 10, active: false },
    { _id: ids.spin, name: 'Evening Spin', startTime: '18:00', endTime: '19:00', capacity: 20 },
  ]);
  await write.overrides([
    { sessionId: id(ids.swim), date: SUN, capacity: 3 },
    { sessionId: id(ids.swim), date: MON, closed: true },
  ]);
}

/** The fixture in the default names through the models, or in a schema case's layout through its writer. */
export async function writeFixture(models: Models, now = new Date(), schemaCase?: SchemaCase): Promise<void> {
  if (schemaCase) return writeFixtureAs(models, schemaCase, now);
  const minutesAgo = (m: number) => new Date(now.getTime() - m * 60_000);
  await models.Session.insertMany([
    { _id: ids.swim, name: 'Morning Swim', startTime: '07:00', endTime: '08:00', capacity: 10 },
    { _id: ids.yoga, name: 'Weekend Yoga', startTime: '09:00', endTime: '10:00', capacity: 5, daysOfWeek: [0, 6] },
    { _id: ids.inactive, name: 'Retired Class', startTime: '10:00', endTime: '11:00', capacity: 10, active: false },
    { _id: ids.spin, name: 'Evening Spin', startTime: '18:00', endTime: '19:00', capacity: 20 },
  ]);
  await models.SessionOverride.insertMany([
    { sessionId: ids.swim, date: SUN, capacity: 3 },
    { sessionId: ids.swim, date: MON, closed: true },
  ]);
  const booking = (sessionId: Types.ObjectId, date: string, quantity: number, status: string, createdAt = minutesAgo(24 * 60), userId = 'user-1') => ({
    sessionId,
    date,
    quantity,
    status,
    userId,
    createdAt,
    updatedAt: createdAt,
  });
  await models.Booking.insertMany(
    [
      // Swim, Saturday: 8 active of 10 -> available 2 = exactly the 0.2 ratio -> low.
      booking(ids.swim, SAT, 2, 'confirmed'),
      booking(ids.swim, SAT, 1, 'confirmed'),
      booking(ids.swim, SAT, 5, 'pending'),
      booking(ids.swim, SAT, 4, 'cancelled'),
      booking(ids.swim, SAT, 3, 'expired'),
      // Swim, Sunday: override capacity 3, 4 booked -> overbooked and full.
      booking(ids.swim, SUN, 4, 'confirmed'),
      // Swim, Monday: closed by override; a booking there still counts as booked.
      booking(ids.swim, MON, 1, 'confirmed'),
      // Yoga, Saturday: full.
      booking(ids.yoga, SAT, 5, 'confirmed'),
      // Spin, Saturday: high demand when HIGH_DEMAND_BOOKINGS = 3 in a 60-minute window.
      booking(ids.spin, SAT, 1, 'confirmed', minutesAgo(5), 'user-2'),
      booking(ids.spin, SAT, 1, 'pending', minutesAgo(30), 'user-3'),
      booking(ids.spin, SAT, 1, 'confirmed', minutesAgo(59), 'user-4'),
      booking(ids.spin, SAT, 1, 'cancelled', minutesAgo(1), 'user-5'),
      // Spin, Sunday: two inside the window and one just outside -> no high demand.
      booking(ids.spin, SUN, 1, 'confirmed', minutesAgo(10), 'user-2'),
      booking(ids.spin, SUN, 1, 'confirmed', minutesAgo(20), 'user-3'),
      booking(ids.spin, SUN, 1, 'confirmed', minutesAgo(61), 'user-4'),
      // Leap day.
      booking(ids.swim, '2028-02-29', 1, 'confirmed'),
    ],
    { timestamps: false } as never,
  );
}

async function writeFixtureAs(models: Models, schemaCase: SchemaCase, now: Date): Promise<void> {
  const write = writerFor(models.Hold.db, schemaCase);
  const minutesAgo = (m: number) => new Date(now.getTime() - m * 60_000);
  await writeSchedule(write);
  const b = (sessionId: Types.ObjectId, date: string, quantity: number, status: Status, createdAt = minutesAgo(24 * 60), userId = 'user-1') => ({
    sessionId: id(sessionId),
    date,
    quantity,
    status,
    userId,
    createdAt,
  });
  // The same bookings as above, one for one.
  await write.bookings([
    b(ids.swim, SAT, 2, 'confirmed'),
    b(ids.swim, SAT, 1, 'confirmed'),
    b(ids.swim, SAT, 5, 'pending'),
    b(ids.swim, SAT, 4, 'cancelled'),
    b(ids.swim, SAT, 3, 'expired'),
    b(ids.swim, SUN, 4, 'confirmed'),
    b(ids.swim, MON, 1, 'confirmed'),
    b(ids.yoga, SAT, 5, 'confirmed'),
    b(ids.spin, SAT, 1, 'confirmed', minutesAgo(5), 'user-2'),
    b(ids.spin, SAT, 1, 'pending', minutesAgo(30), 'user-3'),
    b(ids.spin, SAT, 1, 'confirmed', minutesAgo(59), 'user-4'),
    b(ids.spin, SAT, 1, 'cancelled', minutesAgo(1), 'user-5'),
    b(ids.spin, SUN, 1, 'confirmed', minutesAgo(10), 'user-2'),
    b(ids.spin, SUN, 1, 'confirmed', minutesAgo(20), 'user-3'),
    b(ids.spin, SUN, 1, 'confirmed', minutesAgo(61), 'user-4'),
    b(ids.swim, '2028-02-29', 1, 'confirmed'),
  ]);
}

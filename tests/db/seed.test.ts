import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { ACTIVE_BOOKING_STATUS, addDays, todayIn } from '@slotcast/shared';
import type { Database } from '../../server/src/db/connect.ts';
import { seedDemoData } from '../../server/src/db/seed.ts';
import { openTestDatabase } from '../support/database.ts';

let db: Database;
const today = todayIn('UTC');

beforeAll(async () => {
  db = await openTestDatabase();
});

async function fingerprint(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of ['sessions', 'bookings', 'session_overrides']) {
    const docs = await db.connection.db!.collection(name).find().sort({ _id: 1 }).toArray();
    out[name] = createHash('sha256').update(JSON.stringify(docs)).digest('hex');
  }
  return out;
}

describe('demo seed', () => {
  it('writes a realistic schedule and gives the same data when run twice', async () => {
    const first = await seedDemoData(db.models, { today });
    const afterFirst = await fingerprint();
    const second = await seedDemoData(db.models, { today });
    expect(second).toEqual(first);
    expect(await fingerprint()).toEqual(afterFirst);

    expect(await db.models.Session.countDocuments()).toBe(12);
    expect(await db.models.Booking.countDocuments()).toBe(first.bookings);
    expect(first.bookings).toBeGreaterThan(5_000);

    const dates = await db.models.Booking.distinct('date');
    expect(dates).toHaveLength(30);
    expect(dates).toContain(today);
    expect(dates).toContain(addDays(today, 22));

    const closed = await db.models.SessionOverride.find({ closed: true }).lean();
    expect(closed).toHaveLength(1);
    expect(await db.models.Booking.countDocuments({ sessionId: closed[0]!.sessionId, date: closed[0]!.date })).toBe(0);
  });

  it('has sessions that are nearly full', async () => {
    const load = await db.models.Booking.aggregate<{ _id: { sessionId: unknown; date: string }; booked: number }>([
      { $match: { date: today, status: { $in: [...ACTIVE_BOOKING_STATUS] } } },
      { $group: { _id: { sessionId: '$sessionId', date: '$date' }, booked: { $sum: '$quantity' } } },
    ]);
    const sessions = new Map((await db.models.Session.find().lean()).map((s) => [String(s._id), s.capacity]));
    const ratios = load.map((row) => row.booked / sessions.get(String(row._id.sessionId))!);
    expect(ratios.some((ratio) => ratio >= 0.85)).toBe(true);
    expect(ratios.some((ratio) => ratio <= 0.6)).toBe(true);
  });

  it('varies by weekday', async () => {
    const perDate = await db.models.Booking.aggregate<{ _id: string; n: number }>([
      { $match: { status: { $in: [...ACTIVE_BOOKING_STATUS] } } },
      { $group: { _id: '$date', n: { $sum: '$quantity' } } },
    ]);
    const counts = perDate.map((row) => row.n);
    expect(Math.max(...counts) - Math.min(...counts)).toBeGreaterThan(20);
  });
});

import { beforeAll, describe, expect, it } from 'vitest';
import { addDays } from '@slotcast/shared';
import { seedDemoData } from '../../server/src/db/seed.ts';
import { simulateBurst } from '../../server/src/demo/burst.ts';
import { openTestDatabase } from '../support/database.ts';
import type { Database } from '../../server/src/db/connect.ts';

const FROM = '2026-12-01';
let db: Database;

beforeAll(async () => {
  db = await openTestDatabase();
  await seedDemoData(db.models, { today: FROM, days: 1 });
}, 60_000);

describe('the demo burst of simulated bookings', () => {
  it('books on every day of the week, enough that it is seen (at least 14 bookings)', async () => {
    const before = await db.models.Booking.countDocuments({ userId: /^demo-visitor-/ });
    const created = await simulateBurst(db.models, FROM);
    expect(created).toBeGreaterThanOrEqual(14);
    const made = await db.models.Booking.find({ userId: /^demo-visitor-/ }).lean();
    expect(made.length - before).toBe(created);
    const dates = new Set(made.map((booking) => booking.date));
    for (let i = 0; i < 7; i += 1) expect(dates.has(addDays(FROM, i))).toBe(true);
    expect(dates.has(addDays(FROM, 7))).toBe(false);
  });
});

import { addDays, type IsoDate } from '@slotcast/shared';
import type { Models } from '../db/models.ts';
import { simulateBookings } from './simulate.ts';

/** Days of the week the demo shows; the burst spreads over them. */
const WEEK_DAYS = 7;

/**
 * The demo's "Simulate bookings": a burst big enough to see, a few bookings on every day of the
 * week from `from` (several bars move at once, and popular sessions fill up), as visitors would.
 */
export async function simulateBurst(models: Models, from: IsoDate, random: () => number = Math.random): Promise<number> {
  const rounds = Array.from({ length: WEEK_DAYS * 2 }, (_, i) => addDays(from, i % WEEK_DAYS));
  let created = 0;
  for (const date of rounds) created += await simulateBookings(models, date, random);
  return created;
}

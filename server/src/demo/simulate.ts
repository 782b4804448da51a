import type { IsoDate } from '@slotcast/shared';
import { runsOn } from '../availability/rules.ts';
import type { Models } from '../db/models.ts';

/** Books one or two places in a few random sessions of a date, as a visitor of the demo would. */
export async function simulateBookings(models: Models, date: IsoDate, random: () => number = Math.random): Promise<number> {
  const sessions = (await models.Session.find().lean()).filter((session) =>
    runsOn({ ...session, id: String(session._id), active: session.active ?? true, daysOfWeek: session.daysOfWeek ?? undefined }, date),
  );
  if (sessions.length === 0) return 0;
  const picks = Array.from({ length: 1 + Math.floor(random() * 3) }, () => sessions[Math.floor(random() * sessions.length)]!);
  await models.Booking.insertMany(
    picks.map((session) => ({
      sessionId: session._id,
      date,
      userId: `demo-visitor-${1 + Math.floor(random() * 50)}`,
      quantity: random() < 0.7 ? 1 : 2,
      status: 'confirmed',
    })),
  );
  return picks.length;
}

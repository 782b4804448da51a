import { datesInRange, keyOf, type SessionAvailability } from '@slotcast/shared';
import type { Models } from '../../server/src/db/models.ts';
import { AvailabilityReader } from '../../server/src/availability/reader.ts';
import { availabilityOf, runsOn } from '../../server/src/availability/rules.ts';

/** A fresh recompute straight from MongoDB, bypassing every cache: what sockets must end up showing. */
export async function truthOf(models: Models, from: string, to: string, lowRatio = 0.2): Promise<Map<string, Omit<SessionAvailability, 'version' | 'updatedAt'>>> {
  const reader = new AvailabilityReader(models);
  const [sessions, overrides, booked, held] = await Promise.all([reader.sessions(), reader.overrides({ from, to }), reader.booked({ from, to }), reader.held({ from, to })]);
  const out = new Map<string, Omit<SessionAvailability, 'version' | 'updatedAt'>>();
  for (const date of datesInRange(from, to)) {
    for (const session of sessions.filter((s) => runsOn(s, date))) {
      const key = keyOf({ sessionId: session.id, date });
      out.set(key, availabilityOf(session, date, overrides.get(key), booked.get(key) ?? 0, lowRatio, held.get(key) ?? 0));
    }
  }
  return out;
}

/** Keys where what a client holds differs from the truth (booked, capacity or status). */
export function differences(held: Map<string, { booked: number; capacity: number; status: string } | undefined>, truth: Awaited<ReturnType<typeof truthOf>>): string[] {
  return [...truth.entries()]
    .filter(([key, row]) => {
      const mine = held.get(key);
      return !mine || mine.booked !== row.booked || mine.capacity !== row.capacity || mine.status !== row.status;
    })
    .map(([key, row]) => `${key}: holds ${JSON.stringify(held.get(key) && { booked: held.get(key)!.booked, capacity: held.get(key)!.capacity })} truth ${row.booked}/${row.capacity}`);
}

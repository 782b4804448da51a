import { Types } from 'mongoose';
import { keyOf, type Key } from '@slotcast/shared';
import type { SessionCatalog } from '../availability/catalog.ts';
import { NotFoundError } from '../availability/errors.ts';
import type { AvailabilityReader } from '../availability/reader.ts';
import { capacityOn, runsOn } from '../availability/rules.ts';
import { GuardError, InputError } from './errors.ts';
import type { KeyTruth } from './ledger.ts';
import { GUARD_REASON } from '@slotcast/shared';

/** The places of keys as MongoDB has them now: the ledger's truth. */
export function placesReader(catalog: SessionCatalog, reader: AvailabilityReader) {
  return async (keys: Key[]): Promise<Map<string, KeyTruth>> => {
    if (keys.length === 0) return new Map();
    const dates = keys.map((key) => key.date).sort();
    const scope = { from: dates[0]!, to: dates.at(-1)!, sessionIds: [...new Set(keys.map((key) => key.sessionId))] };
    const [{ byId }, overrides, held] = await Promise.all([catalog.current(), reader.overrides(scope), reader.held(scope)]);
    // Held, then booked, never both at once: a confirm writes its booking before it marks its hold confirmed, so a hold read
    // first is at worst counted twice; read together, a booking read before the confirm and a hold read after it miss both.
    const booked = await reader.booked(scope);
    const out = new Map<string, KeyTruth>();
    for (const key of keys) {
      const id = keyOf(key);
      const session = byId.get(key.sessionId);
      const capacity = session && runsOn(session, key.date) ? capacityOn(session, overrides.get(id)) : 0;
      out.set(id, { capacity, booked: booked.get(id) ?? 0, held: held.get(id) ?? 0 });
    }
    return out;
  };
}

/** A key's capacity as MongoDB has it now (the session and its override), without counting its places. */
export function capacityReader(catalog: SessionCatalog, reader: AvailabilityReader) {
  return async (key: Key): Promise<number> => {
    const [{ byId }, overrides] = await Promise.all([catalog.current(), reader.overrides({ from: key.date, to: key.date, sessionIds: [key.sessionId] })]);
    const session = byId.get(key.sessionId);
    return session && runsOn(session, key.date) ? capacityOn(session, overrides.get(keyOf(key))) : 0;
  };
}

/**
 * Checks a key before places are taken there: the session runs that day (NOT_FOUND otherwise),
 * is not closed (CONFLICT CLOSED), the date is not past, and the quantity could ever fit. Whether
 * the places are free is the ledger's to say, so nothing here counts them.
 */
export async function requireBookable(catalog: SessionCatalog, capacityOf: ReturnType<typeof capacityReader>, key: Key, quantity: number, today: string): Promise<void> {
  if (key.date < today) throw new InputError('date', `${key.date} is in the past`);
  const session = await catalog.require(key.sessionId);
  if (!runsOn(session, key.date)) throw new NotFoundError(`session ${key.sessionId} does not run on ${key.date}`);
  const capacity = await capacityOf(key);
  if (capacity === 0) throw new GuardError(GUARD_REASON.CLOSED, `session ${key.sessionId} is closed on ${key.date}`);
  if (quantity > capacity) throw new InputError('quantity', `must be at most the capacity, ${capacity}`);
}

export const objectId = (id: string) => new Types.ObjectId(id);

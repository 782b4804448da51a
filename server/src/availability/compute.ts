import { keyOf, type Key, type SessionAvailability } from '@slotcast/shared';
import type { Metrics } from '../observability/metrics.ts';
import type { SessionCatalog } from './catalog.ts';
import type { AvailabilityReader } from './reader.ts';
import { availabilityOf, runsOn, type AvailabilityFields } from './rules.ts';
import type { VersionCounter } from './store/ports.ts';

/** One key as MongoDB has it now, numbered. `runs` is false for a key whose session no longer runs that day. */
export interface Computed {
  key: Key;
  next: SessionAvailability;
  runs: boolean;
}

/** Keys per recompute batch: bounds one aggregation's $in list and one Redis pipeline. */
export const BATCH = 500;

/**
 * Reads MongoDB for keys, with versions reserved before the read: a later change always gets a
 * higher version than a read that could not have seen it. Both sides compute through this one
 * place: the read side to fill its cache, the write side after a change.
 */
export class VersionedCompute {
  constructor(
    private readonly catalog: SessionCatalog,
    private readonly reader: AvailabilityReader,
    private readonly versions: VersionCounter,
    private readonly lowRatio: number,
    private readonly metrics?: Metrics,
  ) {}

  async compute(keys: Key[]): Promise<Computed[]> {
    if (keys.length === 0) return [];
    const stop = this.metrics?.recomputeSeconds.startTimer({ scope: keys.length === 1 ? 'key' : 'batch' });
    const out: Computed[] = [];
    for (let i = 0; i < keys.length; i += BATCH) {
      const batch = keys.slice(i, i + BATCH);
      const first = await this.versions.reserve(batch.length);
      const dates = batch.map((key) => key.date).sort();
      const scope = { from: dates[0]!, to: dates.at(-1)!, sessionIds: [...new Set(batch.map((key) => key.sessionId))] };
      const [{ byId }, overrides, booked, held] = await Promise.all([
        this.catalog.current(),
        this.reader.overrides(scope),
        this.reader.booked(scope),
        this.reader.held(scope),
      ]);
      const updatedAt = new Date().toISOString();
      batch.forEach((key, j) => {
        const id = keyOf(key);
        const session = byId.get(key.sessionId);
        const runs = session !== undefined && runsOn(session, key.date);
        const fields: AvailabilityFields = session
          ? availabilityOf(session, key.date, runs ? overrides.get(id) : { closed: true }, booked.get(id) ?? 0, this.lowRatio, held.get(id) ?? 0)
          : gone(key);
        out.push({ key, runs, next: { ...fields, version: first + j, updatedAt } });
      });
    }
    stop?.();
    return out;
  }
}

/** What a deleted session looks like to clients that held it: closed, no capacity. */
function gone(key: Key): AvailabilityFields {
  return {
    sessionId: key.sessionId,
    date: key.date,
    name: '',
    startTime: '00:00',
    endTime: '00:00',
    capacity: 0,
    booked: 0,
    held: 0,
    available: 0,
    utilization: 0,
    status: 'closed',
    overbooked: false,
  };
}

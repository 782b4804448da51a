import { keyOf, type Alert, type IsoDate, type Key, type SessionAvailability } from '@slotcast/shared';
import type { AvailabilityReader } from './reader.ts';
import { byStartTime, capacityAlertOf, type AvailabilityFields } from './rules.ts';
import { STALE, type AlertState, type AvailabilityStores } from './store/ports.ts';

/**
 * How long a key's last evaluated state is kept. A key quiet for longer compares with nothing
 * at its next change, and raises a capacity alert still in force once more.
 */
export const ALERT_STATE_TTL_MS = 35 * 24 * 3_600_000;

export interface AlertOptions {
  lowRatio: number;
  highDemandBookings: number;
  highDemandWindowMs: number;
}

/** One recomputed key as the alert rules see it: what is true now (with its version), recent bookings. */
export interface AlertCandidate {
  next: SessionAvailability;
  recent: number;
}

/** The contract's alert rules: when one begins (for broadcasts) and which are in force (for the query). */
export class AlertRules {
  constructor(
    private readonly reader: AvailabilityReader,
    private readonly stores: Pick<AvailabilityStores, 'marks' | 'alertStates'>,
    private readonly options: AlertOptions,
  ) {}

  private since(): Date {
    return new Date(Date.now() - this.options.highDemandWindowMs);
  }

  /** Active bookings created within the high-demand window, for several keys in one aggregation. */
  async recentBookingsOf(keys: Key[]): Promise<Map<string, number>> {
    if (keys.length === 0) return new Map();
    const dates = keys.map((key) => key.date).sort();
    return this.reader.recentBookings(this.since(), { from: dates[0]!, to: dates.at(-1)!, sessionIds: [...new Set(keys.map((key) => key.sessionId))] });
  }

  /**
   * Alerts whose condition begins with each change of one batch, evaluated together: a capacity
   * alert that was not in force, places back on a key that was full, or high demand once per
   * window (one round of marks for the batch). "Before" is the state this key was last evaluated
   * with (and published), swapped for the new one: never the cache, which a reader's fill or a
   * guarded write may have advanced to the new numbers without anyone being told. An evaluation
   * older than the held state begins no capacity alert: a newer one has already been judged.
   */
  async begun(batch: AlertCandidate[]): Promise<Alert[][]> {
    const { lowRatio, highDemandBookings, highDemandWindowMs } = this.options;
    const demanding = batch.filter(({ next, recent }) => next.capacity > 0 && recent >= highDemandBookings);
    const [marked, held] = await Promise.all([
      this.stores.marks.markOnce(demanding.map(({ next }) => `high-demand:${keyOf(next)}`), highDemandWindowMs),
      this.stores.alertStates.swap(batch.map(({ next }) => ({ key: next, state: stateOf(next, lowRatio) })), ALERT_STATE_TTL_MS),
    ]);
    const firstInWindow = new Set(demanding.filter((_, i) => marked[i]));
    return batch.map((candidate, i) => {
      const { next, recent } = candidate;
      const before = held[i];
      const highDemand = firstInWindow.has(candidate) ? [alertOf('high_demand', next, recent)] : [];
      if (before === STALE) return highDemand;
      const type = capacityAlertOf(next, lowRatio);
      const reopened = before?.alert === 'no_availability' && next.capacity > 0 && next.available > 0;
      // A key that was full and is now oversold (an outside writer) says so again: the guard never hides it.
      const oversold = before !== undefined && !before.overbooked && next.overbooked && type === 'no_availability';
      return [
        ...(type && (!before || before.alert !== type || oversold) ? [alertOf(type, next)] : []),
        ...(reopened ? [alertOf('places_available', next)] : []),
        ...highDemand,
      ];
    });
  }

  /** Alerts in force over rows of a range: capacity conditions now, and high demand in the current window. */
  async inForce(rows: AvailabilityFields[], from: IsoDate, to: IsoDate): Promise<Alert[]> {
    const recent = await this.reader.recentBookings(this.since(), { from, to });
    return [...rows].sort((a, b) => a.date.localeCompare(b.date) || byStartTime(a, b)).flatMap((row) => {
      const type = capacityAlertOf(row, this.options.lowRatio);
      const count = recent.get(keyOf(row)) ?? 0;
      return [
        ...(type ? [alertOf(type, row)] : []),
        ...(row.capacity > 0 && count >= this.options.highDemandBookings ? [alertOf('high_demand', row, count)] : []),
      ];
    });
  }
}

/** What "begins" needs to remember of a row. */
function stateOf(row: SessionAvailability, lowRatio: number): AlertState {
  return { version: row.version, alert: capacityAlertOf(row, lowRatio) ?? null, overbooked: row.overbooked };
}

function alertOf(type: Alert['type'], a: AvailabilityFields, recentBookings?: number): Alert {
  return {
    type,
    sessionId: a.sessionId,
    date: a.date,
    capacity: a.capacity,
    booked: a.booked,
    available: a.available,
    utilization: a.utilization,
    ...(recentBookings === undefined ? {} : { recentBookings }),
    raisedAt: new Date().toISOString(),
  };
}

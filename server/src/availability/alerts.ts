import { keyOf, type Alert, type IsoDate, type Key } from '@slotcast/shared';
import type { AvailabilityReader } from './reader.ts';
import { byStartTime, capacityAlertOf, type AvailabilityFields } from './rules.ts';
import type { OnceMarks } from './store/ports.ts';

export interface AlertOptions {
  lowRatio: number;
  highDemandBookings: number;
  highDemandWindowMs: number;
}

/** One recomputed key as the alert rules see it: what was cached before, what is true now, recent bookings. */
export interface AlertCandidate {
  before: AvailabilityFields | undefined;
  next: AvailabilityFields;
  recent: number;
}

/** The contract's alert rules: when one begins (for broadcasts) and which are in force (for the query). */
export class AlertRules {
  constructor(
    private readonly reader: AvailabilityReader,
    private readonly marks: OnceMarks,
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
   * window (one round of marks for the batch).
   */
  async begun(batch: AlertCandidate[]): Promise<Alert[][]> {
    const { lowRatio, highDemandBookings, highDemandWindowMs } = this.options;
    const demanding = batch.filter(({ next, recent }) => next.capacity > 0 && recent >= highDemandBookings);
    const marked = await this.marks.markOnce(demanding.map(({ next }) => `high-demand:${keyOf(next)}`), highDemandWindowMs);
    const firstInWindow = new Set(demanding.filter((_, i) => marked[i]));
    return batch.map((candidate) => {
      const { before, next, recent } = candidate;
      const type = capacityAlertOf(next, lowRatio);
      const reopened = before !== undefined && before.capacity > 0 && before.available === 0 && next.capacity > 0 && next.available > 0;
      // A key that was full and is now oversold (an outside writer) says so again: the guard never hides it.
      const oversold = before !== undefined && !before.overbooked && next.overbooked && type === 'no_availability';
      return [
        ...(type && (!before || capacityAlertOf(before, lowRatio) !== type || oversold) ? [alertOf(type, next)] : []),
        ...(reopened ? [alertOf('places_available', next)] : []),
        ...(firstInWindow.has(candidate) ? [alertOf('high_demand', next, recent)] : []),
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

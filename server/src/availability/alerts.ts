import type { Alert, IsoDate } from '@slotcast/shared';
import type { AvailabilityReader } from './reader.ts';
import { byStartTime, capacityAlertOf, keyOf, type AvailabilityFields } from './rules.ts';
import type { AvailabilityStore } from './store.ts';

export interface AlertOptions {
  lowRatio: number;
  highDemandBookings: number;
  highDemandWindowMs: number;
}

/** The contract's three alert rules: when one begins (for broadcasts) and which are in force (for the query). */
export class AlertRules {
  constructor(
    private readonly reader: AvailabilityReader,
    private readonly store: AvailabilityStore,
    private readonly options: AlertOptions,
  ) {}

  private since(): Date {
    return new Date(Date.now() - this.options.highDemandWindowMs);
  }

  /** Active bookings created within the high-demand window, for several keys in one aggregation. */
  async recentBookingsOf(keys: { sessionId: string; date: IsoDate }[]): Promise<Map<string, number>> {
    if (keys.length === 0) return new Map();
    const dates = keys.map((key) => key.date).sort();
    return this.reader.recentBookings(this.since(), { from: dates[0]!, to: dates.at(-1)!, sessionIds: [...new Set(keys.map((key) => key.sessionId))] });
  }

  /** Alerts whose condition begins with this change: a capacity alert that was not in force, or high demand once per window. */
  async begun(before: AvailabilityFields | undefined, next: AvailabilityFields, recent: number): Promise<Alert[]> {
    const alerts: Alert[] = [];
    const type = capacityAlertOf(next, this.options.lowRatio);
    if (type && (!before || capacityAlertOf(before, this.options.lowRatio) !== type)) alerts.push(alertOf(type, next));
    if (
      next.capacity > 0 &&
      recent >= this.options.highDemandBookings &&
      (await this.store.markOnce(`high-demand:${keyOf(next.sessionId, next.date)}`, this.options.highDemandWindowMs))
    ) {
      alerts.push(alertOf('high_demand', next, recent));
    }
    return alerts;
  }

  /** Alerts in force over rows of a range: capacity conditions now, and high demand in the current window. */
  async inForce(rows: AvailabilityFields[], from: IsoDate, to: IsoDate): Promise<Alert[]> {
    const recent = await this.reader.recentBookings(this.since(), { from, to });
    return [...rows].sort((a, b) => a.date.localeCompare(b.date) || byStartTime(a, b)).flatMap((row) => {
      const type = capacityAlertOf(row, this.options.lowRatio);
      const count = recent.get(keyOf(row.sessionId, row.date)) ?? 0;
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

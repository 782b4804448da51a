import type { AvailabilityStats, PeakHour, TrendDirection, TrendPoint, Trends } from '@slotcast/shared';
import type { AvailabilityFields } from './rules.ts';

/**
 * Daily utilization moving by less than this per day (0.5 percentage points) counts as steady:
 * below it, a month of data moves less than the day-to-day noise of a weekly pattern.
 */
export const STEADY_SLOPE = 0.005;

const ratio = (booked: number, capacity: number) => (capacity === 0 ? 0 : booked / capacity);

export function statsOf(from: string, to: string, rows: AvailabilityFields[]): AvailabilityStats {
  const capacity = rows.reduce((sum, row) => sum + row.capacity, 0);
  const booked = rows.reduce((sum, row) => sum + row.booked, 0);
  return {
    from,
    to,
    sessions: rows.length,
    capacity,
    booked,
    available: rows.reduce((sum, row) => sum + row.available, 0),
    utilization: ratio(booked, capacity),
    full: rows.filter((row) => row.status === 'full').length,
    low: rows.filter((row) => row.status === 'low').length,
    closed: rows.filter((row) => row.status === 'closed').length,
  };
}

/** Least-squares slope of y over x = 0, 1, 2, …; 0 for fewer than two points. */
export function leastSquaresSlope(values: number[]): number {
  const n = values.length;
  if (n < 2) return 0;
  const meanX = (n - 1) / 2;
  const meanY = values.reduce((sum, y) => sum + y, 0) / n;
  let numerator = 0;
  let denominator = 0;
  values.forEach((y, x) => {
    numerator += (x - meanX) * (y - meanY);
    denominator += (x - meanX) ** 2;
  });
  return numerator / denominator;
}

export function directionOf(slope: number): TrendDirection {
  if (slope > STEADY_SLOPE) return 'rising';
  if (slope < -STEADY_SLOPE) return 'falling';
  return 'steady';
}

/** One point per date (every date of the range, empty ones at 0), then the slope of utilization. */
export function trendsOf(dates: string[], rows: AvailabilityFields[]): Trends {
  const points: TrendPoint[] = dates.map((date) => {
    const day = rows.filter((row) => row.date === date);
    const capacity = day.reduce((sum, row) => sum + row.capacity, 0);
    const booked = day.reduce((sum, row) => sum + row.booked, 0);
    return { date, capacity, booked, utilization: ratio(booked, capacity) };
  });
  const slope = leastSquaresSlope(points.map((point) => point.utilization));
  return { points, slope, direction: directionOf(slope) };
}

/** Load by the hour a session starts in, busiest (by utilization, then booked) first. */
export function peakHoursOf(rows: AvailabilityFields[], limit: number): PeakHour[] {
  const hours = new Map<number, PeakHour>();
  for (const row of rows) {
    const hour = Number(row.startTime.slice(0, 2));
    const entry = hours.get(hour) ?? { hour, sessions: 0, capacity: 0, booked: 0, utilization: 0 };
    entry.sessions += 1;
    entry.capacity += row.capacity;
    entry.booked += row.booked;
    hours.set(hour, entry);
  }
  return [...hours.values()]
    .map((entry) => ({ ...entry, utilization: ratio(entry.booked, entry.capacity) }))
    .sort((a, b) => b.utilization - a.utilization || b.booked - a.booked || a.hour - b.hour)
    .slice(0, limit);
}

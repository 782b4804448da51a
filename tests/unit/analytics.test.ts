import { describe, expect, it } from 'vitest';
import { availabilityOf, type SessionInfo } from '../../server/src/availability/rules.ts';
import { STEADY_SLOPE, directionOf, leastSquaresSlope, peakHoursOf, statsOf, trendsOf } from '../../server/src/availability/analytics.ts';

const session = (id: string, startTime: string, capacity: number): SessionInfo => ({
  id: id.padStart(24, '0'),
  name: `S${id}`,
  startTime,
  endTime: '23:59',
  capacity,
  active: true,
});
const row = (s: SessionInfo, date: string, booked: number) => availabilityOf(s, date, undefined, booked, 0.2);

describe('least squares', () => {
  it('finds the slope of a line and of noisy data', () => {
    expect(leastSquaresSlope([0, 1, 2, 3])).toBeCloseTo(1);
    expect(leastSquaresSlope([3, 2, 1, 0])).toBeCloseTo(-1);
    expect(leastSquaresSlope([1, 3, 2, 4])).toBeCloseTo(0.8);
    expect(leastSquaresSlope([5, 5, 5])).toBe(0);
  });

  it('is 0 for fewer than two points', () => {
    expect(leastSquaresSlope([])).toBe(0);
    expect(leastSquaresSlope([0.7])).toBe(0);
  });

  it('calls a slope within the threshold steady, at the threshold too', () => {
    expect(directionOf(STEADY_SLOPE)).toBe('steady');
    expect(directionOf(-STEADY_SLOPE)).toBe('steady');
    expect(directionOf(STEADY_SLOPE + 1e-9)).toBe('rising');
    expect(directionOf(-STEADY_SLOPE - 1e-9)).toBe('falling');
  });
});

describe('trends', () => {
  it('has a point for every date, empty ones at 0, and the slope of utilization', () => {
    const s = session('1', '09:00', 10);
    const trends = trendsOf(['2028-02-28', '2028-02-29', '2028-03-01'], [row(s, '2028-02-28', 2), row(s, '2028-03-01', 6)]);
    expect(trends.points).toEqual([
      { date: '2028-02-28', capacity: 10, booked: 2, utilization: 0.2 },
      { date: '2028-02-29', capacity: 0, booked: 0, utilization: 0 },
      { date: '2028-03-01', capacity: 10, booked: 6, utilization: 0.6 },
    ]);
    expect(trends.slope).toBeCloseTo(0.2);
    expect(trends.direction).toBe('rising');
  });

  it('is steady over a one-day range and over no sessions', () => {
    expect(trendsOf(['2026-11-24'], [])).toEqual({
      points: [{ date: '2026-11-24', capacity: 0, booked: 0, utilization: 0 }],
      slope: 0,
      direction: 'steady',
    });
  });
});

describe('stats', () => {
  it('sums capacity and counts statuses', () => {
    const rows = [
      row(session('1', '09:00', 10), '2026-11-24', 10), // full
      row(session('2', '10:00', 10), '2026-11-24', 8), // low
      row(session('3', '11:00', 0), '2026-11-24', 0), // closed
      row(session('4', '12:00', 20), '2026-11-24', 12), // overbooked elsewhere: counts what is booked
    ];
    expect(statsOf('2026-11-24', '2026-11-24', rows)).toEqual({
      from: '2026-11-24',
      to: '2026-11-24',
      sessions: 4,
      capacity: 40,
      booked: 30,
      available: 10,
      utilization: 0.75,
      full: 1,
      low: 1,
      closed: 1,
    });
  });

  it('is all zeros with no sessions', () => {
    expect(statsOf('2026-11-24', '2026-11-25', [])).toMatchObject({ sessions: 0, capacity: 0, utilization: 0 });
  });
});

describe('peak hours', () => {
  it('groups by start hour, busiest first, and honours the limit', () => {
    const rows = [
      row(session('1', '09:00', 10), '2026-11-24', 9),
      row(session('2', '09:30', 10), '2026-11-24', 7),
      row(session('3', '17:00', 10), '2026-11-24', 10),
      row(session('4', '06:15', 10), '2026-11-24', 1),
    ];
    const hours = peakHoursOf(rows, 2);
    expect(hours).toEqual([
      { hour: 17, sessions: 1, capacity: 10, booked: 10, utilization: 1 },
      { hour: 9, sessions: 2, capacity: 20, booked: 16, utilization: 0.8 },
    ]);
    expect(peakHoursOf(rows, 24).map((h) => h.hour)).toEqual([17, 9, 6]);
    expect(peakHoursOf([], 5)).toEqual([]);
  });
});

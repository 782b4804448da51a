import { describe, expect, it } from 'vitest';
import { availabilityOf, capacityAlertOf, runsOn, sameAvailability, statusOf, type SessionInfo } from '../../server/src/availability/rules.ts';

const session = (overrides: Partial<SessionInfo> = {}): SessionInfo => ({
  id: 'a'.repeat(24),
  name: 'Pilates',
  startTime: '10:00',
  endTime: '11:00',
  capacity: 10,
  active: true,
  ...overrides,
});

describe('runsOn', () => {
  it('runs every day when daysOfWeek is missing or empty', () => {
    expect(runsOn(session(), '2026-11-24')).toBe(true);
    expect(runsOn(session({ daysOfWeek: [] }), '2026-11-24')).toBe(true);
    expect(runsOn(session({ daysOfWeek: null }), '2026-11-22')).toBe(true);
  });

  it('runs only on listed weekdays (0 = Sunday)', () => {
    const weekend = session({ daysOfWeek: [0, 6] });
    expect(runsOn(weekend, '2026-11-22')).toBe(true); // Sunday
    expect(runsOn(weekend, '2026-11-28')).toBe(true); // Saturday
    expect(runsOn(weekend, '2026-11-24')).toBe(false); // Tuesday
  });

  it('never runs when inactive', () => {
    expect(runsOn(session({ active: false }), '2026-11-24')).toBe(false);
  });
});

describe('availabilityOf', () => {
  const ratio = 0.2;

  it('computes every field', () => {
    expect(availabilityOf(session(), '2026-11-24', undefined, 4, ratio)).toEqual({
      sessionId: 'a'.repeat(24),
      date: '2026-11-24',
      name: 'Pilates',
      startTime: '10:00',
      endTime: '11:00',
      capacity: 10,
      booked: 4,
      held: 0,
      available: 6,
      utilization: 0.4,
      status: 'available',
      overbooked: false,
    });
  });

  it('counts held places as taken but not as booked', () => {
    expect(availabilityOf(session(), '2026-11-24', undefined, 4, ratio, 5)).toMatchObject({ booked: 4, held: 5, available: 1, utilization: 0.4, status: 'low', overbooked: false });
    expect(availabilityOf(session(), '2026-11-24', undefined, 6, ratio, 4)).toMatchObject({ available: 0, status: 'full', overbooked: false });
    expect(availabilityOf(session(), '2026-11-24', undefined, 6, ratio, 5)).toMatchObject({ available: 0, overbooked: true });
  });

  it('is low exactly at the ratio and available just above it', () => {
    expect(availabilityOf(session(), '2026-11-24', undefined, 8, ratio).status).toBe('low'); // 2/10 = 0.2
    expect(availabilityOf(session(), '2026-11-24', undefined, 7, ratio).status).toBe('available'); // 3/10
    expect(availabilityOf(session({ capacity: 5 }), '2026-11-24', undefined, 4, ratio).status).toBe('low'); // 1/5
  });

  it('is full at capacity and overbooked above it, never negative', () => {
    const full = availabilityOf(session(), '2026-11-24', undefined, 10, ratio);
    expect(full).toMatchObject({ available: 0, status: 'full', overbooked: false, utilization: 1 });
    const over = availabilityOf(session(), '2026-11-24', undefined, 13, ratio);
    expect(over).toMatchObject({ available: 0, status: 'full', overbooked: true, utilization: 1.3 });
  });

  it('is closed with utilization 0 when capacity is 0', () => {
    const closed = availabilityOf(session({ capacity: 0 }), '2026-11-24', undefined, 0, ratio);
    expect(closed).toMatchObject({ capacity: 0, available: 0, utilization: 0, status: 'closed', overbooked: false });
    expect(availabilityOf(session({ capacity: 0 }), '2026-11-24', undefined, 2, ratio)).toMatchObject({
      status: 'closed',
      overbooked: true,
      utilization: 0,
    });
  });

  it('takes the override capacity, and 0 when the override closes the day', () => {
    expect(availabilityOf(session(), '2026-11-24', { capacity: 20 }, 4, ratio)).toMatchObject({ capacity: 20, available: 16 });
    expect(availabilityOf(session(), '2026-11-24', { capacity: 0 }, 0, ratio).status).toBe('closed');
    expect(availabilityOf(session(), '2026-11-24', { closed: true, capacity: 20 }, 3, ratio)).toMatchObject({
      capacity: 0,
      status: 'closed',
      overbooked: true,
    });
    expect(availabilityOf(session(), '2026-11-24', { closed: false }, 3, ratio).capacity).toBe(10);
  });
});

describe('statusOf and capacity alerts', () => {
  it('follows the contract order: closed, full, low, available', () => {
    expect(statusOf(0, 0, 0.2)).toBe('closed');
    expect(statusOf(10, 0, 0.2)).toBe('full');
    expect(statusOf(10, 2, 0.2)).toBe('low');
    expect(statusOf(10, 3, 0.2)).toBe('available');
    expect(statusOf(10, 0, 0)).toBe('full');
    expect(statusOf(10, 10, 1)).toBe('low');
  });

  it('raises no_availability, low_availability, and nothing for closed sessions', () => {
    const at = (capacity: number, booked: number) => availabilityOf(session({ capacity }), '2026-11-24', undefined, booked, 0.2);
    expect(capacityAlertOf(at(10, 10), 0.2)).toBe('no_availability');
    expect(capacityAlertOf(at(10, 12), 0.2)).toBe('no_availability');
    expect(capacityAlertOf(at(10, 8), 0.2)).toBe('low_availability');
    expect(capacityAlertOf(at(10, 7), 0.2)).toBeUndefined();
    expect(capacityAlertOf(at(0, 0), 0.2)).toBeUndefined();
    expect(capacityAlertOf(at(0, 3), 0.2)).toBeUndefined();
  });

  it('compares snapshots by what they show', () => {
    const a = availabilityOf(session(), '2026-11-24', undefined, 4, 0.2);
    expect(sameAvailability(a, { ...a })).toBe(true);
    expect(sameAvailability(a, availabilityOf(session(), '2026-11-24', undefined, 5, 0.2))).toBe(false);
    expect(sameAvailability(a, availabilityOf(session({ name: 'Yoga' }), '2026-11-24', undefined, 4, 0.2))).toBe(false);
  });
});

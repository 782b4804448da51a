import { describe, expect, it } from 'vitest';
import { AvailabilityStore, fullJitter, remainingText, statusClass, utilizationWidth } from '../../client/src/index.ts';
import { sampleRow } from '../support/rows.ts';

const row = (version: number, booked: number, date?: string, sessionId?: string) => sampleRow(version, booked, { date, sessionId });

describe('AvailabilityStore', () => {
  it('ends at the newest version whatever order and however often deliveries arrive', () => {
    const deliveries = [row(3, 3), row(1, 1), row(5, 5), row(2, 2), row(5, 5), row(4, 4), row(1, 1)];
    for (const order of [deliveries, [...deliveries].reverse(), [...deliveries].sort(() => 0.5 - Math.random())]) {
      const store = new AvailabilityStore();
      const seen: number[] = [];
      store.subscribe(({ availability }) => seen.push(availability.version));
      for (const delivery of order) store.apply(delivery);
      expect(store.get('a'.repeat(24), '2026-11-24')).toMatchObject({ version: 5, booked: 5 });
      expect(seen).toEqual([...seen].sort((a, b) => a - b));
      expect(new Set(seen).size).toBe(seen.length);
    }
  });

  it('lists a date by start time and finds ids in any case', () => {
    const store = new AvailabilityStore();
    store.apply({ ...row(1, 1, '2026-11-24', 'b'.repeat(24)), startTime: '18:00', name: 'Spin' });
    store.apply(row(1, 2));
    store.apply(row(1, 2, '2026-11-25'));
    expect(store.byDate('2026-11-24').map((r) => r.startTime)).toEqual(['10:00', '18:00']);
    expect(store.get('A'.repeat(24), '2026-11-24')?.booked).toBe(2);
    expect(store.size).toBe(3);
  });
});

describe('fullJitter', () => {
  it('stays between 0 and a cap that doubles up to the maximum', () => {
    const options = { baseMs: 100, maxMs: 1000 };
    expect(fullJitter(0, options, () => 0.999)).toBe(99);
    expect(fullJitter(3, options, () => 0.5)).toBe(400);
    expect(fullJitter(10, options, () => 0.999)).toBe(999);
    expect(fullJitter(5, options, () => 0)).toBe(0);
    for (let attempt = 0; attempt < 20; attempt += 1) {
      const delay = fullJitter(attempt, options);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(Math.min(1000, 100 * 2 ** attempt));
    }
  });
});

describe('UI helpers', () => {
  it('words, classes and bar widths', () => {
    expect(remainingText({ available: 3, status: 'available', utilization: 0.7 })).toBe('3 places left');
    expect(remainingText({ available: 1, status: 'low', utilization: 0.9 })).toBe('1 place left');
    expect(remainingText({ available: 0, status: 'full', utilization: 1.2 })).toBe('Full');
    expect(remainingText({ available: 0, status: 'closed', utilization: 0 })).toBe('Closed');
    expect(statusClass('low')).toBe('slot--low');
    expect(utilizationWidth({ available: 0, status: 'full', utilization: 1.3 })).toBe('100%');
    expect(utilizationWidth({ available: 5, status: 'available', utilization: 0.456 })).toBe('46%');
    expect(utilizationWidth({ available: 5, status: 'available', utilization: -1 })).toBe('0%');
  });
});

import { describe, expect, it } from 'vitest';
import { addDays, datesInRange, daysBetween, isIsoDate, isTimeZone, todayIn, weekday } from '@slotcast/shared';

describe('calendar dates', () => {
  it.each(['2024-02-29', '2025-12-31', '2026-01-01', '2000-02-29'])('accepts %s', (date) => {
    expect(isIsoDate(date)).toBe(true);
  });

  it.each(['2025-02-29', '2025-02-30', '2025-13-01', '2025-00-10', '1900-02-29', '', 'tomorrow', '2025-1-01', ' 2025-01-01', '2025-01-01T00:00'])(
    'rejects %j',
    (date) => {
      expect(isIsoDate(date)).toBe(false);
    },
  );

  it('steps across month ends and leap days', () => {
    expect(addDays('2024-02-28', 1)).toBe('2024-02-29');
    expect(addDays('2024-02-29', 1)).toBe('2024-03-01');
    expect(addDays('2025-02-28', 1)).toBe('2025-03-01');
    expect(addDays('2025-12-31', 1)).toBe('2026-01-01');
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
    expect(daysBetween('2024-02-01', '2024-03-01')).toBe(29);
    expect(daysBetween('2024-03-01', '2024-02-01')).toBe(-29);
  });

  it('lists a range with both ends and an empty list for a reversed one', () => {
    expect(datesInRange('2024-02-27', '2024-03-01')).toEqual(['2024-02-27', '2024-02-28', '2024-02-29', '2024-03-01']);
    expect(datesInRange('2024-03-01', '2024-03-01')).toEqual(['2024-03-01']);
    expect(datesInRange('2024-03-02', '2024-03-01')).toEqual([]);
  });

  it('counts weekdays from Sunday = 0', () => {
    expect(weekday('2026-11-22')).toBe(0);
    expect(weekday('2026-11-24')).toBe(2);
    expect(weekday('2026-11-28')).toBe(6);
  });

  it('takes "today" in the configured zone', () => {
    const instant = new Date('2026-11-24T23:30:00Z');
    expect(todayIn('UTC', instant)).toBe('2026-11-24');
    expect(todayIn('Asia/Tokyo', instant)).toBe('2026-11-25');
    expect(todayIn('America/Los_Angeles', instant)).toBe('2026-11-24');
    expect(isTimeZone('Europe/Paris')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
  });
});

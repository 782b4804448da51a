import type { SessionAvailability } from '@slotcast/shared';

/** A SessionAvailability of a 10-place session, for tests of stores and ordering. */
export const sampleRow = (version: number, booked = 1, options: { date?: string; sessionId?: string } = {}): SessionAvailability => ({
  sessionId: options.sessionId ?? 'a'.repeat(24),
  date: options.date ?? '2026-11-24',
  name: 'Pilates',
  startTime: '10:00',
  endTime: '11:00',
  capacity: 10,
  booked,
  held: 0,
  available: 10 - booked,
  utilization: booked / 10,
  status: 'available',
  overbooked: false,
  version,
  updatedAt: '2026-11-24T10:00:00.000Z',
});

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Alert, SessionAvailability } from '@slotcast/shared';
import { AlertRules } from '../../server/src/availability/alerts.ts';
import type { AvailabilityReader } from '../../server/src/availability/reader.ts';
import { availabilityOf } from '../../server/src/availability/rules.ts';
import { MemoryAlertStates, MemoryOnceMarks } from '../../server/src/availability/store/memory.ts';

const CAPACITY = 4;
const session = { id: 'e'.repeat(24), name: 'Rowing', startTime: '08:00', endTime: '09:00', capacity: CAPACITY, active: true };

/** The row the write side would publish with `booked` places taken, at `version`. */
const rowOf = (booked: number, version: number): SessionAvailability => ({
  ...availabilityOf(session, '2027-02-01', undefined, booked, 0.2),
  version,
  updatedAt: new Date(0).toISOString(),
});

/** Fresh rules over in-process stores; `begun` reads neither bookings nor MongoDB, so no reader is needed. */
function rules() {
  return new AlertRules({} as AvailabilityReader, { marks: new MemoryOnceMarks(), alertStates: new MemoryAlertStates() }, {
    lowRatio: 0.2,
    highDemandBookings: 1_000,
    highDemandWindowMs: 60_000,
  });
}

const fullness = (type: Alert['type']) => type === 'no_availability' || type === 'places_available';

describe('alert "begins" transitions', () => {
  it('raises no_availability on each entry into full and places_available on each way out, in version order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: CAPACITY }), { minLength: 1, maxLength: 30 }), async (booked) => {
        const alerts = rules();
        const raised: Alert['type'][] = [];
        for (const [i, count] of booked.entries()) {
          const [begun] = await alerts.begun([{ next: rowOf(count, i + 1), recent: 0 }]);
          raised.push(...begun!.map((alert) => alert.type).filter(fullness));
        }
        const full = booked.map((count) => count === CAPACITY);
        const entries = full.filter((isFull, i) => isFull && (i === 0 || !full[i - 1])).length;
        const exits = full.filter((isFull, i) => !isFull && i > 0 && full[i - 1]).length;
        expect(raised.filter((type) => type === 'no_availability')).toHaveLength(entries);
        expect(raised.filter((type) => type === 'places_available')).toHaveLength(exits);
        // They alternate, starting with the key filling up.
        raised.forEach((type, i) => expect(type).toBe(i % 2 === 0 ? 'no_availability' : 'places_available'));
      }),
      { numRuns: 200 },
    );
  });

  it('raises nothing for an evaluation that arrives after a newer one, whatever the order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: CAPACITY }), { minLength: 1, maxLength: 12 }).chain((booked) =>
          fc.tuple(fc.constant(booked), fc.shuffledSubarray(booked.map((_, i) => i), { minLength: booked.length })),
        ),
        async ([booked, order]) => {
          const alerts = rules();
          let newest = 0;
          const raised: Alert['type'][] = [];
          for (const i of order) {
            const [begun] = await alerts.begun([{ next: rowOf(booked[i]!, i + 1), recent: 0 }]);
            const types = begun!.map((alert) => alert.type).filter(fullness);
            if (i + 1 <= newest) expect(types, `version ${i + 1} after ${newest}`).toEqual([]);
            newest = Math.max(newest, i + 1);
            raised.push(...types);
          }
          // Whatever came late, what was raised still alternates: never full twice, never freed twice.
          raised.forEach((type, k) => expect(type).toBe(k % 2 === 0 ? 'no_availability' : 'places_available'));
        },
      ),
      { numRuns: 200 },
    );
  });
});

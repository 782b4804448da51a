import { describe, expect, it } from 'vitest';
import type { HubEvent } from '@slotcast/shared';
import { compareEventIds, type EventLog, type LoggedEvent } from '../../server/src/broadcast/event-log.ts';

const event = (n: number): HubEvent => ({
  type: 'availability.alert',
  data: {
    type: 'low_availability',
    sessionId: 'a'.repeat(24),
    date: '2026-11-24',
    capacity: 10,
    booked: n,
    available: 10 - n,
    utilization: n / 10,
    raisedAt: '2026-11-24T10:00:00.000Z',
  },
});

/** Waits for `count` events through `subscribe`, failing after a timeout. */
function collect(log: EventLog, count: number, timeoutMs = 5_000): Promise<LoggedEvent[]> {
  const seen: LoggedEvent[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`saw ${seen.length} of ${count} events`));
    }, timeoutMs);
    const stop = log.subscribe((entry) => {
      seen.push(entry);
      if (seen.length === count) {
        clearTimeout(timer);
        stop();
        resolve(seen);
      }
    });
  });
}

/**
 * What every EventLog must do. `open(length)` gives two logs over the same history (two
 * instances; the same object for the in-memory one), keeping at most `length` events.
 */
export function eventLogContract(name: string, open: (length: number) => Promise<{ writer: EventLog; reader: EventLog }>) {
  describe(`${name} event log contract`, () => {
    it('appends with increasing ids and reads back what came after an id', async () => {
      const { writer } = await open(100);
      expect(await writer.tip()).toBe('0-0');
      const ids = await writer.append([1, 2, 3].map((n) => ({ event: event(n), channels: ['availability'] })));
      expect(compareEventIds(ids[0]!, ids[1]!)).toBeLessThan(0);
      expect(compareEventIds(ids[1]!, ids[2]!)).toBeLessThan(0);
      expect(await writer.tip()).toBe(ids[2]);
      const after = await writer.after(ids[0]!);
      expect(after?.map((entry) => entry.id)).toEqual(ids.slice(1));
      expect(after?.[0]).toMatchObject({ event: event(2), channels: ['availability'] });
      expect(await writer.after(ids[2]!)).toEqual([]);
      expect((await writer.after('0-0'))?.length).toBe(3);
    });

    it('delivers appends to subscribers of another instance, in order', async () => {
      const { writer, reader } = await open(100);
      await reader.ready();
      const received = collect(reader, 3);
      const ids = await writer.append([4, 5, 6].map((n) => ({ event: event(n), channels: ['availability.2026-11-24'] })));
      expect((await received).map((entry) => entry.id)).toEqual(ids);
    });

    it('says it cannot resume from an id older than what it still holds, or from another history', async () => {
      const { writer } = await open(5);
      // Redis trims approximately, a whole node (100 entries) at a time, so write well past that.
      const ids = await writer.append(Array.from({ length: 400 }, (_, n) => ({ event: event(n % 10), channels: ['availability'] })));
      expect(await writer.after(ids[0]!)).toBeUndefined();
      const recent = await writer.after(ids[398]!);
      expect(recent?.map((entry) => entry.id)).toEqual([ids[399]]);
      expect(await writer.after(`${Date.now() + 86_400_000}-0`)).toBeUndefined();
    });
  });
}

import { describe, expect, it } from 'vitest';
import type { HubEvent } from '@slotcast/shared';
import { compareEventIds, type EventLog, type LoggedEvent } from '../../server/src/broadcast/event-log.ts';

const event = (n: number, session = 'a'): HubEvent => ({
  type: 'availability.alert',
  data: {
    type: 'low_availability',
    sessionId: session.repeat(24),
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
 * instances; the same object for the in-memory one), keeping at most `length` events, and how
 * many streams the log spreads over.
 */
export function eventLogContract(name: string, open: (length: number) => Promise<{ writer: EventLog; reader: EventLog; streams: number }>) {
  describe(`${name} event log contract`, () => {
    it('starts at a cursor of empty streams, appends one key’s events in order and reads back what came after a cursor', async () => {
      const { writer, streams } = await open(100);
      const start = await writer.tip();
      expect(start).toBe(Array.from({ length: streams }, () => '0-0').join('_'));
      const ids = await writer.append([1, 2, 3].map((n) => ({ event: event(n), channels: ['availability'] })));
      expect(compareEventIds(ids[0]!, ids[1]!)).toBeLessThan(0);
      expect(compareEventIds(ids[1]!, ids[2]!)).toBeLessThan(0);
      const all = await writer.after(start);
      expect(all?.map((entry) => entry.position)).toEqual(ids);
      expect(all?.[1]).toMatchObject({ event: event(2), channels: ['availability'] });
      expect((await writer.after(all![0]!.id))?.map((entry) => entry.position)).toEqual(ids.slice(1));
      expect(await writer.after(all![2]!.id)).toEqual([]);
      expect(await writer.after(await writer.tip())).toEqual([]);
    });

    it('resumes after any cursor with exactly the events not yet covered, however the keys spread over its streams', async () => {
      const { writer, streams } = await open(1000);
      const start = await writer.tip();
      const sessions = 'abcdef0123'.split('');
      for (let round = 0; round < 3; round += 1) {
        await writer.append(sessions.map((session, n) => ({ event: event(n, session), channels: ['availability'] })));
      }
      const all = (await writer.after(start))!;
      expect(all).toHaveLength(30);
      if (streams > 1) expect(new Set(all.map((entry) => entry.bucket)).size).toBeGreaterThan(1);
      const seen = (entries: LoggedEvent[]) => entries.map((entry) => `${entry.bucket}/${entry.position}`).sort();
      for (const cut of [0, 7, 14, 29]) {
        expect(seen((await writer.after(all[cut]!.id))!)).toEqual(seen(all.slice(cut + 1)));
      }
    });

    it('delivers appends to subscribers of another instance, in order', async () => {
      const { writer, reader } = await open(100);
      await reader.ready();
      const received = collect(reader, 3);
      const ids = await writer.append([4, 5, 6].map((n) => ({ event: event(n), channels: ['availability.2026-11-24'] })));
      expect((await received).map((entry) => entry.position)).toEqual(ids);
    });

    it('says it cannot resume from a cursor older than what it still holds, or from another history', async () => {
      const { writer, streams } = await open(5);
      const start = await writer.tip();
      // Redis trims approximately, a whole node (100 entries) at a time, so write well past that.
      const ids = await writer.append(Array.from({ length: 400 }, (_, n) => ({ event: event(n % 10), channels: ['availability'] })));
      expect(await writer.after(start)).toBeUndefined();
      // The tip's stream of this key holds ids[399]; one step back is the cursor after ids[398].
      const beforeLast = (await writer.tip()).replace(ids[399]!, ids[398]!);
      const recent = await writer.after(beforeLast);
      expect(recent?.map((entry) => entry.position)).toEqual([ids[399]]);
      const future = Array.from({ length: streams }, () => `${Date.now() + 86_400_000}-0`).join('_');
      expect(await writer.after(future)).toBeUndefined();
      // A cursor of another number of streams (a log spread differently) is no cursor of this one.
      expect(await writer.after(`${start}_0-0`)).toBeUndefined();
    });
  });
}

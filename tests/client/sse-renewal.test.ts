import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventSource } from 'eventsource';
import { addDays, userChannel, type BookingUpdate, type HubEvent } from '@slotcast/shared';
import { createSlotcastClient } from '../../client/src/index.ts';
import { compareEventIds } from '../../server/src/broadcast/event-log.ts';
import { startTestHub, type TestHub } from '../support/hub.ts';
import { Waiter } from '../support/waiter.ts';

let t: TestHub;
let sessionId: string;
let date: string;
const waiter = new Waiter();
/** The booking ids the hub's event log has carried so far, whoever listens. */
const logged = new Set<string>();
let stopWatching: () => void = () => undefined;
afterAll(() => stopWatching());

beforeAll(async () => {
  t = await startTestHub({ env: { COALESCE_MS: '10' } });
  const session = await t.hub.database.models.Session.create({ name: 'Renewals', startTime: '10:00', endTime: '11:00', capacity: 100 });
  sessionId = String(session._id);
  date = addDays(t.hub.reads.today(), 2);
  stopWatching = t.hub.api.events.subscribe(({ event }) => {
    if (event.type === 'booking.updated') logged.add(event.data.bookingId);
    waiter.wake();
  });
}, 60_000);

/** Books one place for `userId` straight in MongoDB and waits until the change feed has logged its booking.updated. */
async function book(userId: string): Promise<string> {
  const booking = await t.hub.database.models.Booking.create({ sessionId, date, quantity: 1, userId, status: 'confirmed' });
  const bookingId = String(booking._id);
  await waiter.until(`booking ${bookingId} in the event log`, () => logged.has(bookingId), 10_000);
  return bookingId;
}

/**
 * A user's SSE subscription through a client whose token function signs 3-second tokens (or
 * what `tokenFor` returns for a call), and runs `during(call)` before handing the token out: a
 * booking written there lands between the ended stream and its renewal.
 */
function subscribeAs(userId: string, options: { during?: (call: number) => Promise<void>; tokenFor?: (call: number) => Promise<string> | undefined } = {}) {
  const seen = { events: [] as { id: string; data: HubEvent }[], calls: 0, starts: 0, renewals: [] as { code?: string; lastEventId?: string }[], endedAt: [] as number[], startedAt: [] as number[], failure: undefined as unknown };
  const client = createSlotcastClient({
    url: t.hub.url,
    EventSource: EventSource as unknown as typeof globalThis.EventSource,
    token: async () => {
      seen.calls += 1;
      const call = seen.calls;
      await options.during?.(call);
      waiter.wake();
      return (await options.tokenFor?.(call)) ?? t.token(userId, [], '3s');
    },
  });
  const subscription = client.availability.subscribe.subscribe(
    { channel: userChannel(userId) },
    {
      onStarted: () => ((seen.starts += 1), seen.startedAt.push(Date.now()), waiter.wake()),
      onData: (event) => (seen.events.push(event as unknown as { id: string; data: HubEvent }), waiter.wake()),
      onConnectionStateChange: (state) => {
        if (!state.error) return;
        seen.renewals.push({ code: state.error.data?.code, lastEventId: state.error.data?.lastEventId });
        seen.endedAt.push(Date.now());
      },
      onError: (error) => ((seen.failure = error), waiter.wake()),
    },
  );
  const bookingIds = () => seen.events.filter((e) => e.data.type === 'booking.updated').map((e) => (e.data.data as BookingUpdate).bookingId);
  const until = (description: string, condition: () => boolean) =>
    waiter.until(description, condition, 12_000, { failure: () => (seen.failure ? new Error(`the subscription failed: ${String(seen.failure)}`) : undefined) });
  return { seen, bookingIds, until, close: () => subscription.unsubscribe() };
}

/** The stream told its user of exactly the bookings written, in order, and no event id came twice or went back. */
function expectEachOnceInOrder(stream: { bookingIds(): string[]; seen: { events: { id: string }[] } }, written: string[]): void {
  expect(stream.bookingIds()).toEqual(written);
  const ids = stream.seen.events.map((e) => e.id);
  expect(new Set(ids).size).toBe(ids.length);
  const logged = ids.filter((id) => !id.includes(':'));
  for (let i = 1; i < logged.length; i += 1) expect(compareEventIds(logged[i]!, logged[i - 1]!), `${logged[i - 1]} then ${logged[i]}`).toBeGreaterThan(0);
}

describe('the typed client renews an SSE subscription the hub ended at token expiry', () => {
  it('resumes after each renewal with every event once, in order, including those written in between', async () => {
    const written: string[] = [];
    // Renewals 1 and 2 (token calls 2 and 3) each get a booking written while the stream is down.
    const stream = subscribeAs('renew-1', { during: async (call) => void (call === 2 || call === 3 ? written.push(await book('renew-1')) : undefined) });
    try {
      // The user has no bookings: the snapshot is empty and the first stream carries no id at all.
      await stream.until('the first stream', () => stream.seen.starts === 1);
      await stream.until('the first renewal', () => stream.seen.starts === 2);
      written.push(await book('renew-1'));
      await stream.until('the second renewal', () => stream.seen.starts === 3);
      written.push(await book('renew-1'));
      await stream.until('every booking', () => stream.bookingIds().length >= 4);

      expectEachOnceInOrder(stream, written);
      // Each renewal was the hub ending the stream at expiry, naming where to resume; each asked for a new token.
      expect(stream.seen.renewals.slice(0, 2)).toEqual([
        { code: 'UNAUTHORIZED', lastEventId: expect.stringMatching(/^\d+-\d+$/) },
        { code: 'UNAUTHORIZED', lastEventId: expect.stringMatching(/^\d+-\d+$/) },
      ]);
      expect(stream.seen.calls).toBeGreaterThanOrEqual(3);
      expect(stream.seen.failure).toBeUndefined();
      // Each gap includes writing a booking in the token function and waiting for the change feed to log it.
      console.log(`renewals took ${stream.seen.endedAt.slice(0, 2).map((end, i) => stream.seen.startedAt[i + 1]! - end).join(' and ')} ms, the booking written in between included`);
    } finally {
      stream.close();
    }
  }, 60_000);

  it('tries again when the renewal is refused, and still resumes from the last event', async () => {
    const written: string[] = [];
    const expired = await t.token('renew-2', [], -10);
    // The first renewal hands out an expired token (and a booking is written meanwhile); the next call gets a good one.
    const stream = subscribeAs('renew-2', {
      during: async (call) => void (call === 2 ? written.push(await book('renew-2')) : undefined),
      tokenFor: (call) => (call === 2 ? Promise.resolve(expired) : undefined),
    });
    try {
      await stream.until('the first stream', () => stream.seen.starts === 1);
      written.unshift(await book('renew-2'));
      await stream.until('the renewed stream after the refusal', () => stream.seen.calls >= 3 && stream.bookingIds().length >= 2);
      written.push(await book('renew-2'));
      await stream.until('the booking after the renewal', () => stream.bookingIds().length >= 3);

      expectEachOnceInOrder(stream, written);
      // The expiry named where to resume; the refusal of the expired token did not (the client kept its own last id).
      expect(stream.seen.renewals.slice(0, 2)).toEqual([
        { code: 'UNAUTHORIZED', lastEventId: expect.stringMatching(/^\d+-\d+$/) },
        { code: 'UNAUTHORIZED', lastEventId: undefined },
      ]);
      expect(stream.seen.failure).toBeUndefined();
    } finally {
      stream.close();
    }
  }, 60_000);
});

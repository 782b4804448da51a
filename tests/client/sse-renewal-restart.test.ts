import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { EventSource } from 'eventsource';
import { addDays, todayIn, userChannel, type BookingUpdate, type HubEvent } from '@slotcast/shared';
import { createSlotcastClient } from '../../client/src/index.ts';
import { Tokens } from '../../server/src/auth/tokens.ts';
import { compareEventIds } from '../../server/src/broadcast/event-log.ts';
import { isLeader, startCluster } from '../support/cluster.ts';
import { TEST_JWT_SECRET } from '../support/hub.ts';
import { Waiter } from '../support/waiter.ts';

/** A port nothing listens on now, so a restarted hub can take the same one. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('SSE renewal across a hub crash', () => {
  it('a hub killed mid-stream comes back: the reconnect with the old token is refused or ends at expiry, and the renewed stream resumes with nothing lost or repeated', async () => {
    const port = await freePort();
    const cluster = await startCluster({ env: { PORT: String(port) } });
    const first = cluster.spawn('sse-crash-1');
    await isLeader(first);
    const session = await cluster.models.Session.create({ name: 'Crash', startTime: '12:00', endTime: '13:00', capacity: 50 });
    const key = { sessionId: String(session._id), date: addDays(todayIn('UTC'), 2) };
    const book = async () => String((await cluster.models.Booking.create({ ...key, quantity: 1, userId: 'crash-1', status: 'confirmed' }))._id);

    const tokens = new Tokens(TEST_JWT_SECRET);
    const waiter = new Waiter();
    const seen = { events: [] as { id: string; data: HubEvent }[], calls: 0, refusals: [] as string[], failure: undefined as unknown };
    const client = createSlotcastClient({
      url: `http://127.0.0.1:${port}`,
      EventSource: EventSource as unknown as typeof globalThis.EventSource,
      token: () => ((seen.calls += 1), waiter.wake(), tokens.sign({ sub: 'crash-1', roles: [] }, '3s')),
    });
    const subscription = client.availability.subscribe.subscribe(
      { channel: userChannel('crash-1') },
      {
        onData: (event) => (seen.events.push(event as unknown as { id: string; data: HubEvent }), waiter.wake()),
        onConnectionStateChange: ({ error }) => void (error?.data?.code === 'UNAUTHORIZED' && seen.refusals.push(error.message)),
        onError: (error) => ((seen.failure = error), waiter.wake()),
      },
    );
    const bookedAtKey = () =>
      Math.max(0, ...seen.events.map(({ data }) => (data.type === 'booking.updated' ? data.data.availability : data.type === 'availability.updated' ? data.data : undefined)).filter((row) => row?.sessionId === key.sessionId).map((row) => row!.booked));
    const bookingIds = () => seen.events.filter((e) => e.data.type === 'booking.updated').map((e) => (e.data.data as BookingUpdate).bookingId);
    const until = (description: string, condition: () => boolean) =>
      waiter.until(description, condition, 30_000, { failure: () => (seen.failure ? new Error(String(seen.failure)) : undefined), detail: () => cluster.diagnostics() });
    try {
      const written = [await book()];
      await until('the first booking', () => bookingIds().length === 1);
      const callsBefore = seen.calls;

      await first.stop('SIGKILL');
      // Written while no hub runs: its numbers reach the stream through the next leader (at least its horizon resync).
      // Its booking.updated is not asserted: whether that is replayed depends on the resume token the killed leader left.
      await book();
      const second = cluster.spawn('sse-crash-2');
      await isLeader(second);
      await until('the availability written while the hub was down', () => bookedAtKey() === 2);
      await until('a renewal with a fresh token', () => seen.calls > callsBefore);
      written.push(await book());
      await until('the booking after the restart', () => bookingIds().includes(written[1]!));

      console.log(`refusals and expiries renewed: ${seen.refusals.join('; ')}`);
      // A new leader may publish again what the killed one had published but not yet acknowledged (the feed is
      // at-least-once across a crash): a new log event with its own id. The stream itself repeats no log event.
      expect([...new Set(bookingIds().filter((id) => written.includes(id)))]).toEqual(written);
      expect(bookedAtKey()).toBe(3);
      const ids = seen.events.map((e) => e.id);
      expect(new Set(ids).size).toBe(ids.length);
      const plain = ids.filter((id) => !id.includes(':'));
      expect([...plain].sort(compareEventIds)).toEqual(plain);
      expect(seen.failure).toBeUndefined();
    } finally {
      subscription.unsubscribe();
    }
  }, 120_000);
});

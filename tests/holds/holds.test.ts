import { beforeAll, describe, expect, it } from 'vitest';
import { TRPCClientError } from '@trpc/client';
import { Types } from 'mongoose';
import { addDays } from '@slotcast/shared';
import { MON, SAT, id, ids, writeFixture } from '../support/fixture.ts';
import { startTestHub, type TestHub } from '../support/hub.ts';
import { Received, connect, subscribe } from '../support/sockets.ts';
import { createRealtimeClient, type SlotcastClient } from '../../client/src/index.ts';
import type { HoldUpdate } from '@slotcast/shared';
import { Waiter } from '../support/waiter.ts';
import { defaultCase, storedBookings, studioCase, writerFor, type SchemaCase } from '../support/schemas.ts';

/**
 * The holds suite under the default names and under a mapped schema (tests/support/schemas.ts):
 * outside bookings are written in each layout, and the bookings the hub writes are read back by
 * that layout. Holds are the hub's own collection, the same under both.
 */
const schemaCases = [defaultCase, studioCase()];

async function setup(c: SchemaCase) {
  const t = await startTestHub({ redis: true, env: { COALESCE_MS: '10', ...c.env } });
  await writeFixture(t.hub.database.models, new Date(), c === defaultCase ? undefined : c);
  const aliceToken = await t.token('alice');
  return {
    t,
    write: writerFor(t.hub.database.connection, c),
    aliceToken,
    alice: t.client(aliceToken),
    bob: t.client(await t.token('bob')),
    staff: t.client(await t.token('desk', ['staff'])),
  };
}

const hubs = new Map<SchemaCase, Awaited<ReturnType<typeof setup>>>();
// Hubs start at file level: a cleanup registered in a describe's hook after a test has run would be tied to that test.
beforeAll(async () => {
  for (const c of schemaCases) hubs.set(c, await setup(c));
});

/** The typed error of a refused call: code, and the guard's reason and available places. */
async function refusal(call: Promise<unknown>): Promise<{ code?: string; reason?: string; available?: number; fields?: string[] }> {
  try {
    await call;
  } catch (error) {
    if (!(error instanceof TRPCClientError)) throw error;
    return error.data as { code?: string; reason?: string; available?: number; fields?: string[] };
  }
  throw new Error('the call was not refused');
}

const spin = id(ids.spin);
const yoga = id(ids.yoga);

describe.each(schemaCases)('holds under $name', (c) => {
  let t: TestHub;
  let write: ReturnType<typeof writerFor>;
  let alice: SlotcastClient;
  let bob: SlotcastClient;
  let staff: SlotcastClient;
  let aliceToken: string;
  beforeAll(() => {
    ({ t, write, alice, bob, staff, aliceToken } = hubs.get(c)!);
  });
  const count = async (filter: Record<string, unknown>) => t.hub.database.models.Hold.countDocuments(filter);
  /** The bookings stored for a key and user, read by this schema's layout (another program's view of them). */
  const storedFor = async (sessionId: string, date: string, userId: string) =>
    (await storedBookings(t.hub.database.connection, c)).filter((b) => b.sessionId === sessionId && b.date === date && b.userId === userId);

    it('takes places, counts them as held everywhere, and confirms them into a booking', async () => {
      const date = '2027-03-01';
      const before = await alice.availability.bySession.query({ sessionId: spin, date });
      const { hold, availability } = await alice.holds.create.mutate({ sessionId: spin, date, quantity: 3 });
      expect(hold).toMatchObject({ sessionId: spin, date, userId: 'alice', quantity: 3, status: 'active', source: 'api' });
      expect(new Date(hold.expiresAt).getTime()).toBeGreaterThan(Date.now() + 590_000); // HOLD_TTL_SECONDS 600
      expect(availability).toMatchObject({ held: before.held + 3, available: before.available - 3 });
      expect(await alice.holds.mine.query()).toEqual([hold]);

      const { booking, availability: after } = await alice.holds.confirm.mutate({ holdId: hold.holdId });
      expect(booking).toMatchObject({ sessionId: spin, date, userId: 'alice', quantity: 3, status: 'confirmed' });
      expect(after).toMatchObject({ booked: before.booked + 3, held: before.held, available: before.available - 3 });
      expect(await storedBookings(t.hub.database.connection, c, { _id: new Types.ObjectId(booking.bookingId) })).toMatchObject([{ sessionId: spin, date, userId: 'alice', status: c.stored.confirmed, quantity: 3 }]);
      expect(await count({ _id: hold.holdId, status: 'confirmed', bookingId: booking.bookingId })).toBe(1);
      // Confirmed, so no longer active: a second confirm, a release and an extend are all refused.
      expect(await refusal(alice.holds.confirm.mutate({ holdId: hold.holdId }))).toMatchObject({ code: 'CONFLICT', reason: 'HOLD_INACTIVE' });
      expect(await refusal(alice.holds.release.mutate({ holdId: hold.holdId }))).toMatchObject({ code: 'CONFLICT', reason: 'HOLD_INACTIVE' });
      expect(await refusal(alice.holds.extend.mutate({ holdId: hold.holdId, ttlSeconds: 60 }))).toMatchObject({ reason: 'HOLD_INACTIVE' });
      expect(await alice.holds.mine.query()).toEqual([]);
    });

    it('refuses what does not fit with INSUFFICIENT and the places left, and gives released places back', async () => {
      const date = SAT; // Morning Swim: 10 places, 8 booked in the fixture
      const swim = id(ids.swim);
      const { hold } = await alice.holds.create.mutate({ sessionId: swim, date, quantity: 2 });
      expect(await refusal(bob.holds.create.mutate({ sessionId: swim, date, quantity: 1 }))).toMatchObject({ code: 'CONFLICT', reason: 'INSUFFICIENT', available: 0 });
      expect(await refusal(bob.bookings.create.mutate({ sessionId: swim, date, quantity: 1 }))).toMatchObject({ reason: 'INSUFFICIENT', available: 0 });
      const { hold: released, availability } = await alice.holds.release.mutate({ holdId: hold.holdId });
      expect(released.status).toBe('released');
      expect(availability).toMatchObject({ held: 0, available: 2 });
      const { booking } = await bob.bookings.create.mutate({ sessionId: swim, date, quantity: 2 });
      expect(booking).toMatchObject({ userId: 'bob', quantity: 2, status: 'confirmed' });
      expect(await refusal(alice.holds.create.mutate({ sessionId: swim, date, quantity: 1 }))).toMatchObject({ reason: 'INSUFFICIENT', available: 0 });
      const cancelled = await bob.bookings.cancel.mutate({ bookingId: booking.bookingId });
      expect(cancelled.booking.status).toBe('cancelled');
      expect(cancelled.availability.available).toBe(2);
      expect(await refusal(bob.bookings.cancel.mutate({ bookingId: booking.bookingId }))).toMatchObject({ code: 'CONFLICT', reason: 'BOOKING_INACTIVE' });
    });

    it('extends an active hold, within HOLD_MAX_TTL_SECONDS', async () => {
      const { hold } = await alice.holds.create.mutate({ sessionId: spin, date: '2027-03-02', quantity: 1, ttlSeconds: 30 });
      const { hold: extended } = await alice.holds.extend.mutate({ holdId: hold.holdId, ttlSeconds: 3600 });
      expect(new Date(extended.expiresAt).getTime()).toBeGreaterThan(Date.now() + 3_590_000);
      expect(await refusal(alice.holds.extend.mutate({ holdId: hold.holdId, ttlSeconds: 3601 }))).toMatchObject({ code: 'BAD_REQUEST', fields: ['ttlSeconds'] });
      expect(await refusal(alice.holds.extend.mutate({ holdId: hold.holdId, ttlSeconds: 29 }))).toMatchObject({ code: 'BAD_REQUEST', fields: ['ttlSeconds'] });
      // Refused calls keep no claim on their idempotency key: the same key works once places are back.
      expect(await refusal(alice.holds.create.mutate({ sessionId: spin, date: '2027-03-02', quantity: 20, idempotencyKey: 'retry-me' }))).toMatchObject({ reason: 'INSUFFICIENT', available: 19 });
      await alice.holds.release.mutate({ holdId: hold.holdId });
      expect((await alice.holds.create.mutate({ sessionId: spin, date: '2027-03-02', quantity: 20, idempotencyKey: 'retry-me' })).hold.quantity).toBe(20);
    });

    it('returns a hold’s places at its expiry, without anyone calling, and tells the owner live', async () => {
      const date = '2027-03-03';
      const socket = await connect(t.hub.url, { token: aliceToken });
      const mine = new Received(socket);
      const watcher = new Received(await connect(t.hub.url));
      expect((await subscribe(socket, { channel: 'availability.user.alice' })).ok).toBe(true);
      watcher.apply(await subscribe(watcher.socket, { channel: `availability.${date}` }));
      const before = watcher.get(spin, date)!;
      const { hold } = await alice.holds.create.mutate({ sessionId: spin, date, quantity: 4, ttlSeconds: 30 });
      await watcher.until('the hold to show', (r) => r.get(spin, date)?.held === before.held + 4);
      await mine.until('hold.updated (active)', (r) => r.holds.some((u) => u.hold.holdId === hold.holdId && u.hold.status === 'active'));
      // Time passes: the hold is due in a moment (a write to expiresAt stands in for 30 s of waiting).
      const due = new Date(Date.now() + 500);
      await t.hub.database.models.Hold.updateOne({ _id: hold.holdId }, { $set: { expiresAt: due } });
      await mine.until('hold.updated (expired)', (r) => r.holds.some((u) => u.hold.holdId === hold.holdId && u.hold.status === 'expired'), 5_000);
      await watcher.until('the places to come back', (r) => r.get(spin, date)?.held === before.held && r.get(spin, date)?.available === before.available, 5_000);
      const lateBy = Date.now() - due.getTime();
      expect(lateBy).toBeLessThan(5_000);
      console.log(`places came back ${lateBy} ms after expiresAt`);
      expect(await refusal(alice.holds.confirm.mutate({ holdId: hold.holdId }))).toMatchObject({ reason: 'HOLD_INACTIVE' });
      expect((await alice.holds.create.mutate({ sessionId: spin, date, quantity: 20 })).availability.available).toBe(0);
    });

    it('returns the first result for a repeated idempotency key, even when the retries race', async () => {
      const date = '2027-03-04';
      const calls = await Promise.all(Array.from({ length: 8 }, () => bob.holds.create.mutate({ sessionId: spin, date, quantity: 2, idempotencyKey: 'cart-42' })));
      expect(new Set(calls.map((call) => call.hold.holdId)).size).toBe(1);
      expect(await count({ sessionId: ids.spin, date, userId: 'bob' })).toBe(1);
      const confirms = await Promise.all(Array.from({ length: 4 }, () => bob.holds.confirm.mutate({ holdId: calls[0]!.hold.holdId, idempotencyKey: 'pay-42' })));
      expect(new Set(confirms.map((call) => call.booking.bookingId)).size).toBe(1);
      expect(await storedFor(spin, date, 'bob')).toHaveLength(1);
      // The key is the user's own: another user with the same key makes their own hold.
      const other = await alice.holds.create.mutate({ sessionId: spin, date, quantity: 1, idempotencyKey: 'cart-42' });
      expect(other.hold.holdId).not.toBe(calls[0]!.hold.holdId);
    });

    it('answers bad input and other people’s holds with typed errors and changes nothing', async () => {
      const { hold } = await alice.holds.create.mutate({ sessionId: spin, date: '2027-03-05', quantity: 1 });
      const holdsBefore = await count({});
      const past = addDays(t.hub.reads.today(), -1);
      const cases: [() => Promise<unknown>, Record<string, unknown>][] = [
        [() => alice.holds.create.mutate({ sessionId: spin, date: '2027-03-05', quantity: 0 }), { code: 'BAD_REQUEST', fields: ['quantity'] }],
        [() => alice.holds.create.mutate({ sessionId: spin, date: '2027-03-05', quantity: 21 }), { code: 'BAD_REQUEST', fields: ['quantity'] }],
        [() => alice.holds.create.mutate({ sessionId: spin, date: '2027-02-30', quantity: 1 }), { code: 'BAD_REQUEST', fields: ['date'] }],
        [() => alice.holds.create.mutate({ sessionId: spin, date: past, quantity: 1 }), { code: 'BAD_REQUEST', fields: ['date'] }],
        [() => alice.holds.create.mutate({ sessionId: 'nope', date: '2027-03-05', quantity: 1 }), { code: 'BAD_REQUEST', fields: ['sessionId'] }],
        [() => alice.holds.create.mutate({ sessionId: spin, date: '2027-03-05', quantity: 1, ttlSeconds: 10 }), { code: 'BAD_REQUEST', fields: ['ttlSeconds'] }],
        [() => alice.holds.create.mutate({ sessionId: ids.unknown, date: '2027-03-05', quantity: 1 }), { code: 'NOT_FOUND' }],
        [() => alice.holds.create.mutate({ sessionId: yoga, date: MON, quantity: 1 }), { code: 'NOT_FOUND' }], // yoga runs on weekends
        [() => alice.holds.create.mutate({ sessionId: id(ids.swim), date: MON, quantity: 1 }), { code: 'CONFLICT', reason: 'CLOSED' }],
        [() => bob.holds.release.mutate({ holdId: hold.holdId }), { code: 'FORBIDDEN' }],
        [() => bob.holds.confirm.mutate({ holdId: hold.holdId }), { code: 'FORBIDDEN' }],
        [() => bob.holds.extend.mutate({ holdId: hold.holdId, ttlSeconds: 60 }), { code: 'FORBIDDEN' }],
        [() => alice.holds.release.mutate({ holdId: ids.unknown }), { code: 'NOT_FOUND' }],
        [() => t.client().holds.create.mutate({ sessionId: spin, date: '2027-03-05', quantity: 1 }), { code: 'UNAUTHORIZED' }],
        [() => t.client().holds.mine.query(), { code: 'UNAUTHORIZED' }],
      ];
      for (const [call, expected] of cases) expect(await refusal(call())).toMatchObject(expected);
      expect(await count({})).toBe(holdsBefore);
      expect(await count({ _id: hold.holdId, status: 'active' })).toBe(1);
      // Staff may act on anyone's hold.
      expect((await staff.holds.release.mutate({ holdId: hold.holdId })).hold.status).toBe('released');
    });

    it('counts an outside booking as it arrives and says so when it oversells', async () => {
      const date = '2027-03-06'; // Morning Swim: 10 places, none booked
      const socket = new Received(await connect(t.hub.url));
      socket.apply(await subscribe(socket.socket, { channel: `availability.${date}` }));
      const swim = id(ids.swim);
      const free = socket.get(swim, date)!.available;
      await alice.holds.create.mutate({ sessionId: swim, date, quantity: free });
      await write.booking({ sessionId: swim, date, userId: 'walk-in', quantity: 1, status: 'confirmed' });
      await socket.until('the oversold key', (r) => r.get(swim, date)?.overbooked === true);
      expect(socket.get(swim, date)).toMatchObject({ available: 0, status: 'full', overbooked: true });
      // Oversold by the walk-in: said with an alert, though the key was full already.
      await socket.until('the oversold alert', (r) => r.alerts.some((a) => a.type === 'no_availability' && a.date === date && a.booked === 1));
      // A booking with a quantity below 1 (a writer's mistake) gives no place back.
      await write.raw('bookings', c.bookingDoc({ sessionId: swim, date, userId: 'typo', quantity: -3, status: 'confirmed' }));
      await t.hub.feed!.idle();
      expect(await alice.availability.bySession.query({ sessionId: swim, date })).toMatchObject({ booked: 1, overbooked: true });
      expect(await refusal(bob.holds.create.mutate({ sessionId: swim, date, quantity: 1 }))).toMatchObject({ reason: 'INSUFFICIENT', available: 0 });
    });

    it('reaches the client library: onHold on the user channel, and the store shows held', async () => {
      const date = '2027-03-07';
      const realtime = createRealtimeClient({ url: t.hub.url, token: aliceToken, transports: ['websocket'] });
      const holds: HoldUpdate[] = [];
      const waiter = new Waiter();
      realtime.subscribe('availability.user.alice', { onHold: (update) => (holds.push(update), waiter.wake()), onSnapshot: () => waiter.wake() });
      realtime.connect();
      try {
        await waiter.until('connected', () => realtime.state === 'connected', 10_000);
        const { hold } = await alice.holds.create.mutate({ sessionId: spin, date, quantity: 2 });
        await waiter.until('onHold', () => holds.some((u) => u.hold.holdId === hold.holdId), 10_000);
        expect(realtime.store.get(spin, date)).toMatchObject({ held: 2 });
      } finally {
        realtime.close();
      }
    });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventSource } from 'eventsource';
import { SignJWT } from 'jose';
import { Types } from 'mongoose';
import { createSlotcastClient, type SlotcastClient } from '../../client/src/index.ts';
import { isLeader, startCluster, urlOf } from '../support/cluster.ts';
import { TEST_JWT_SECRET } from '../support/hub.ts';
import type { HubProcess } from '../support/hub-process.ts';
import { Received, connect, subscribe } from '../support/sockets.ts';

let cluster: Awaited<ReturnType<typeof startCluster>>;
let a: HubProcess;
let b: HubProcess;

const token = (sub: string) => new SignJWT({ roles: [] }).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setExpirationTime('1h').sign(new TextEncoder().encode(TEST_JWT_SECRET));
const clientOf = async (hub: HubProcess, sub: string): Promise<SlotcastClient> =>
  createSlotcastClient({ url: await urlOf(hub), token: await token(sub), EventSource: EventSource as unknown as typeof globalThis.EventSource });

beforeAll(async () => {
  cluster = await startCluster();
  a = cluster.spawn('hub-a');
  await isLeader(a);
  b = cluster.spawn('hub-b');
  await b.port();
});

afterAll(async () => {
  await Promise.all([a, b].map((hub) => hub.stop('SIGKILL')));
});

describe('a waitlist offer outlives the instance that made it', () => {
  it('still expires and passes on exactly once after a kill -9 of the leader that made it', async () => {
    const sessionId = new Types.ObjectId();
    await cluster.models.Session.create({ _id: sessionId, name: 'Kiln', startTime: '10:00', endTime: '11:00', capacity: 1 });
    const key = { sessionId: String(sessionId), date: '2027-06-01' };
    const [alice, bob, carol] = await Promise.all([clientOf(a, 'alice'), clientOf(a, 'bob'), clientOf(b, 'carol')]);
    const { booking } = await alice.bookings.create.mutate({ ...key, quantity: 1 });
    await bob.waitlist.join.mutate({ ...key, quantity: 1 });
    await carol.waitlist.join.mutate({ ...key, quantity: 1 });
    // Bob and Carol watch their channels on b, the instance that survives.
    const watch = async (sub: string) => {
      const received = new Received(await connect(await urlOf(b), { token: await token(sub) }));
      expect((await subscribe(received.socket, { channel: `availability.user.${sub}` })).ok).toBe(true);
      return received;
    };
    const [bobSees, carolSees] = await Promise.all([watch('bob'), watch('carol')]);
    // On instance a, which leads: the cancellation frees the place and a makes Bob's offer.
    await alice.bookings.cancel.mutate({ bookingId: booking.bookingId });
    await bobSees.until('bob’s offer', (r) => r.offers.length === 1);
    // a dies with the offer open; b takes the lease. Then the offer's time runs out (a write stands in for the wait).
    await a.stop('SIGKILL');
    await isLeader(b);
    await cluster.models.Hold.updateOne({ _id: bobSees.offers[0]!.hold.holdId }, { $set: { expiresAt: new Date(Date.now() + 200) } });
    await carolSees.until('carol’s offer, made by b', (r) => r.offers.length === 1);
    await bobSees.until('bob’s entry expired', (r) => r.entries.some((u) => u.entry.status === 'expired'));
    expect(await cluster.models.Hold.find({ sessionId, status: 'active' }).lean()).toMatchObject([{ userId: 'carol', source: 'waitlist' }]);
    expect(await cluster.models.Hold.countDocuments({ sessionId, userId: 'bob', status: 'expired' })).toBe(1);
    const entries = await cluster.models.Waitlist.find({ sessionId }).sort({ createdAt: 1 }).lean();
    expect(entries.map((entry) => [entry.userId, entry.status])).toEqual([
      ['bob', 'expired'],
      ['carol', 'offered'],
    ]);
    expect(await (await clientOf(b, 'carol')).holds.mine.query()).toHaveLength(1);
  }, 60_000);
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userChannel, type HoldUpdate, type WaitlistOffer, type WaitlistUpdate } from '@slotcast/shared';
import { createRealtimeClient, type RealtimeClient } from '../../client/src/index.ts';
import { startTestHub, type TestHub } from '../support/hub.ts';
import { Waiter } from '../support/waiter.ts';

let t: TestHub;
const clients: RealtimeClient[] = [];
afterAll(() => clients.forEach((client) => client.close()));

beforeAll(async () => {
  t = await startTestHub({ env: { COALESCE_MS: '10' } });
}, 60_000);

/** A realtime client on `user`'s channel that records the hold and waitlist events it hands out. */
async function listen(user: string) {
  const client = createRealtimeClient({ url: t.hub.url, token: await t.token(user), transports: ['websocket'] });
  clients.push(client);
  const seen = { holds: [] as HoldUpdate[], offers: [] as WaitlistOffer[], waitlist: [] as WaitlistUpdate[], subscribed: false };
  const waiter = new Waiter();
  client.on('hold', (update) => (seen.holds.push(update), waiter.wake()));
  client.on('offer', (offer) => (seen.offers.push(offer), waiter.wake()));
  client.on('waitlist', (update) => (seen.waitlist.push(update), waiter.wake()));
  client.subscribe(userChannel(user), { onSnapshot: () => ((seen.subscribed = true), waiter.wake()) });
  client.connect();
  const until = (description: string, check: () => boolean) => waiter.until(description, check, 10_000);
  await until('subscribed', () => seen.subscribed);
  return { client, seen, until };
}

describe('the realtime client on a user channel', () => {
  it('hands out hold.updated, waitlist.offer and waitlist.updated, and keeps their availability in its store', async () => {
    const session = await t.hub.database.models.Session.create({ name: 'One Seat', startTime: '21:00', endTime: '22:00', capacity: 1 });
    const sessionId = String(session._id);
    const date = '2027-04-06';
    const [ann, ben] = await Promise.all([listen('ann'), listen('ben')]);
    const annApi = t.client(await t.token('ann'));
    const benApi = t.client(await t.token('ben'));

    const { hold } = await annApi.holds.create.mutate({ sessionId, date, quantity: 1 });
    await ann.until('hold.updated active', () => ann.seen.holds.some((u) => u.hold.holdId === hold.holdId && u.hold.status === 'active'));
    expect(ann.client.store.get(sessionId, date)).toMatchObject({ held: 1, available: 0 });

    const { entry } = await benApi.waitlist.join.mutate({ sessionId, date, quantity: 1 });
    await annApi.holds.release.mutate({ holdId: hold.holdId });
    await ann.until('hold.updated released', () => ann.seen.holds.some((u) => u.hold.status === 'released'));
    await ben.until('waitlist.offer', () => ben.seen.offers.some((o) => o.entry.entryId === entry.entryId));
    const offer = ben.seen.offers[0]!;
    expect(offer.hold).toMatchObject({ userId: 'ben', source: 'waitlist', status: 'active' });
    expect(ben.client.store.get(sessionId, date)?.held).toBe(1);

    await benApi.holds.confirm.mutate({ holdId: offer.hold.holdId });
    await ben.until('waitlist.updated accepted', () => ben.seen.waitlist.some((u) => u.entry.entryId === entry.entryId && u.entry.status === 'accepted'));
    expect(ann.seen.offers).toEqual([]);
    await ben.until('hold.updated confirmed', () => ben.seen.holds.some((u) => u.hold.holdId === offer.hold.holdId && u.hold.status === 'confirmed'));
    expect(ben.client.store.get(sessionId, date)).toMatchObject({ booked: 1, held: 0, available: 0 });
  }, 60_000);
});

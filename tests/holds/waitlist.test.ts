import { beforeAll, describe, expect, it } from 'vitest';
import { TRPCClientError } from '@trpc/client';
import { Types } from 'mongoose';
import { startTestHub, type TestHub } from '../support/hub.ts';
import { Received, connect, subscribe } from '../support/sockets.ts';
import type { SlotcastClient } from '../../client/src/index.ts';
import type { WaitlistOffer, WaitlistUpdate } from '@slotcast/shared';

let t: TestHub;
const users: Record<string, { client: SlotcastClient; socket: Received; readonly offers: WaitlistOffer[]; readonly updates: WaitlistUpdate[] }> = {};

beforeAll(async () => {
  t = await startTestHub({ redis: true, env: { COALESCE_MS: '10', WAITLIST_OFFER_SECONDS: '60' } });
  for (const name of ['alice', 'bob', 'carol', 'dave', 'eve', 'frank']) {
    const token = await t.token(name);
    const socket = new Received(await connect(t.hub.url, { token }));
    expect((await subscribe(socket.socket, { channel: `availability.user.${name}` })).ok).toBe(true);
    users[name] = { client: t.client(token), socket, offers: socket.offers, updates: socket.entries };
  }
});

async function refusal(call: Promise<unknown>): Promise<{ code?: string; reason?: string; available?: number }> {
  try {
    await call;
  } catch (error) {
    if (!(error instanceof TRPCClientError)) throw error;
    return error.data as { code?: string; reason?: string; available?: number };
  }
  throw new Error('the call was not refused');
}

/** A fresh two-place class, so each test has its own key. */
async function twoPlaces(): Promise<{ sessionId: string; date: string }> {
  const sessionId = new Types.ObjectId();
  await t.hub.database.models.Session.create({ _id: sessionId, name: 'Pottery', startTime: '10:00', endTime: '12:00', capacity: 2 });
  // Say sessions changed now (the feed would, a moment later): every read reloads the list.
  await t.hub.services.stores.epoch.bump();
  return { sessionId: String(sessionId), date: '2027-05-03' };
}

const user = (name: string) => users[name]!;
const offered = (name: string, key: { sessionId: string }) => () => user(name).offers.some((o) => o.hold.sessionId === key.sessionId);

describe('the waitlist', () => {
  it('offers freed places to the oldest entries that fit, skipping one that does not, and keeps them from plain holds', async () => {
    const key = await twoPlaces();
    const { hold } = await user('alice').client.holds.create.mutate({ ...key, quantity: 2 });
    expect((await user('bob').client.waitlist.join.mutate({ ...key, quantity: 1 })).position).toBe(1);
    expect((await user('carol').client.waitlist.join.mutate({ ...key, quantity: 2 })).position).toBe(2);
    expect((await user('dave').client.waitlist.join.mutate({ ...key, quantity: 1 })).position).toBe(3);
    expect(await refusal(user('bob').client.waitlist.join.mutate({ ...key, quantity: 1 }))).toMatchObject({ code: 'CONFLICT', reason: 'ALREADY_WAITING' });

    const releasedAt = Date.now();
    await user('alice').client.holds.release.mutate({ holdId: hold.holdId });
    // Bob (1) fits; Carol (2) no longer does with 1 left and is skipped, not dropped; Dave (1) fits.
    await user('bob').socket.until('bob’s offer', offered('bob', key));
    await user('dave').socket.until('dave’s offer', offered('dave', key));
    console.log(`release → offer reached the user in ${Date.now() - releasedAt} ms`);
    const bobOffer = user('bob').offers.find((o) => o.hold.sessionId === key.sessionId)!;
    expect(bobOffer).toMatchObject({ entry: { userId: 'bob', status: 'offered' }, hold: { source: 'waitlist', quantity: 1, status: 'active' }, availability: { available: 0 } });
    expect(new Date(bobOffer.hold.expiresAt).getTime() - Date.now()).toBeGreaterThan(50_000); // WAITLIST_OFFER_SECONDS 60
    expect(user('carol').offers).toHaveLength(0);
    expect(await user('carol').client.waitlist.mine.query()).toMatchObject([{ entry: { status: 'waiting' }, position: 1 }]);
    expect(await refusal(user('eve').client.holds.create.mutate({ ...key, quantity: 1 }))).toMatchObject({ reason: 'INSUFFICIENT', available: 0 });

    // Bob accepts; Dave lets his offer go: its place passes on (Carol still needs 2, so Eve may now take it).
    const { booking } = await user('bob').client.holds.confirm.mutate({ holdId: bobOffer.hold.holdId });
    expect(booking).toMatchObject({ userId: 'bob', quantity: 1, status: 'confirmed' });
    await user('bob').socket.until('bob accepted', () => user('bob').updates.some((u) => u.entry.sessionId === key.sessionId && u.entry.status === 'accepted'));
    const daveOffer = user('dave').offers.find((o) => o.hold.sessionId === key.sessionId)!;
    await user('dave').client.holds.release.mutate({ holdId: daveOffer.hold.holdId });
    await user('dave').socket.until('dave expired', () => user('dave').updates.some((u) => u.entry.sessionId === key.sessionId && u.entry.status === 'expired'));
    expect((await user('eve').client.holds.create.mutate({ ...key, quantity: 1 })).availability.available).toBe(0);
  });

  it('passes an expired offer on to the next entry that fits, within a second or so', async () => {
    const key = await twoPlaces();
    const { booking } = await user('alice').client.bookings.create.mutate({ ...key, quantity: 2 });
    await user('bob').client.waitlist.join.mutate({ ...key, quantity: 2 });
    await user('carol').client.waitlist.join.mutate({ ...key, quantity: 2 });
    await user('alice').client.bookings.cancel.mutate({ bookingId: booking.bookingId });
    await user('bob').socket.until('bob’s offer', offered('bob', key));
    const bobOffer = user('bob').offers.find((o) => o.hold.sessionId === key.sessionId)!;
    // Time passes: Bob's offer is due in a moment.
    const due = new Date(Date.now() + 300);
    await t.hub.database.models.Hold.updateOne({ _id: bobOffer.hold.holdId }, { $set: { expiresAt: due } });
    await user('carol').socket.until('carol’s offer', offered('carol', key), 5_000);
    console.log(`offer expiry → next offer reached the user ${Date.now() - due.getTime()} ms after expiresAt`);
    expect(await user('bob').client.waitlist.mine.query()).toEqual([]);
    await user('bob').socket.until('bob’s entry expired', () => user('bob').updates.some((u) => u.entry.sessionId === key.sessionId && u.entry.status === 'expired'));
    expect(user('bob').updates.filter((u) => u.entry.sessionId === key.sessionId).map((u) => u.entry.status)).toEqual(expect.arrayContaining(['offered', 'expired']));
    expect(await t.hub.database.models.Hold.countDocuments({ sessionId: key.sessionId, status: 'active' })).toBe(1);
  });

  it('gives a cancellation racing a plain hold to the waiting entry', async () => {
    const key = await twoPlaces();
    const { booking } = await user('alice').client.bookings.create.mutate({ ...key, quantity: 2 });
    await user('frank').client.waitlist.join.mutate({ ...key, quantity: 1 });
    const [, plain] = await Promise.allSettled([
      user('alice').client.bookings.cancel.mutate({ bookingId: booking.bookingId }),
      user('eve').client.holds.create.mutate({ ...key, quantity: 2 }),
    ]);
    expect(plain.status).toBe('rejected');
    await user('frank').socket.until('frank’s offer', offered('frank', key));
    const active = await t.hub.database.models.Hold.find({ sessionId: key.sessionId, status: 'active' }).lean();
    expect(active.map((h) => [h.userId, h.source])).toEqual([['frank', 'waitlist']]);
  });

  it('leaves: only the owner (or staff), once, and an open offer is given up with it', async () => {
    const key = await twoPlaces();
    const { entry } = await user('dave').client.waitlist.join.mutate({ ...key, quantity: 1 });
    expect(entry.status).toBe('offered'); // places were free: offered at once
    expect(await refusal(user('dave').client.holds.extend.mutate({ holdId: entry.holdId!, ttlSeconds: 3600 }))).toMatchObject({ code: 'BAD_REQUEST' });
    expect(await refusal(user('eve').client.waitlist.leave.mutate({ entryId: entry.entryId }))).toMatchObject({ code: 'FORBIDDEN' });
    expect((await user('dave').client.waitlist.leave.mutate({ entryId: entry.entryId })).entry.status).toBe('left');
    expect(await refusal(user('dave').client.waitlist.leave.mutate({ entryId: entry.entryId }))).toMatchObject({ code: 'CONFLICT', reason: 'ENTRY_INACTIVE' });
    expect(await t.hub.database.models.Hold.countDocuments({ sessionId: key.sessionId, status: 'active' })).toBe(0);
    expect(await refusal(user('dave').client.waitlist.leave.mutate({ entryId: '64b0000000000000000000ff' }))).toMatchObject({ code: 'NOT_FOUND' });
  });
});

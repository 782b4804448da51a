import { beforeAll, describe, expect, it } from 'vitest';
import { Types } from 'mongoose';
import { addDays, type Alert, type Key } from '@slotcast/shared';
import { startTestHub, type TestHub } from '../support/hub.ts';
import { testDatabaseUri } from '../support/database.ts';
import { Received, connect, subscribe } from '../support/sockets.ts';

let memory: TestHub;
let a: TestHub;
let b: TestHub;
let fed: TestHub;

beforeAll(async () => {
  const mongoUri = testDatabaseUri();
  // No high-demand alerts in the way: these tests count capacity alerts.
  const env = { HIGH_DEMAND_BOOKINGS: '1000', COALESCE_MS: '10' };
  // Driven by hand (no change feed), on one process and on two sharing Redis.
  const seams = { changeFeed: false };
  memory = await startTestHub({ mongoUri, seams, env });
  a = await startTestHub({ redis: true, mongoUri, seams, env });
  b = await startTestHub({ redis: true, mongoUri, seams, env: { ...env, REDIS_KEY_PREFIX: a.config.REDIS_KEY_PREFIX } });
  // The real path: the change feed, guarded holds through the API.
  fed = await startTestHub({ env });
}, 60_000);

async function twoPlaceKey(hub: TestHub, name: string): Promise<Key> {
  const session = await hub.hub.database.models.Session.create({ name, startTime: '09:00', endTime: '10:00', capacity: 2 });
  return { sessionId: String(session._id), date: addDays(hub.hub.reads.today(), 3) };
}

describe('alerts begin against what was last published, not the cache', () => {
  it.each(['memory', 'redis, two instances'] as const)('%s: a key filled while a reader refilled the cache raises no_availability once, then places_available', async (mode) => {
    const [writer, reader] = mode === 'memory' ? [memory, memory] : [a, b];
    const key = await twoPlaceKey(writer, `Begins ${mode}`);
    const raised: Alert['type'][] = [];
    const recompute = async (reason: 'session' | 'booking') => {
      for (const change of await writer.hub.writes.recompute([key], reason)) raised.push(...change.alerts.map((alert) => alert.type));
    };
    const readerSees = async () => (await reader.hub.reads.byDate(key.date)).find((row) => row.sessionId === key.sessionId)!;
    await recompute('session'); // published with both places free

    const { insertedId } = await writer.hub.database.models.Booking.collection.insertOne({
      sessionId: new Types.ObjectId(key.sessionId),
      date: key.date,
      quantity: 2,
      status: 'confirmed',
      userId: 'begins',
      createdAt: new Date(),
      updatedAt: new Date(),
    });
    // Before the write side runs, the entry expires and a reader fills it with the full row, publishing nothing.
    await writer.hub.services.stores.cache.delete([key]);
    expect((await readerSees()).available).toBe(0);
    await recompute('booking');
    await recompute('booking'); // a second change that leaves it full begins nothing
    expect(raised).toEqual(['no_availability']);

    await writer.hub.database.models.Booking.collection.deleteOne({ _id: insertedId });
    await writer.hub.services.stores.cache.delete([key]);
    expect((await readerSees()).available).toBe(2);
    await recompute('booking');
    await recompute('booking');
    expect(raised).toEqual(['no_availability', 'places_available']);
  });

  it('raises no_availability once when a guarded hold takes the last places, and places_available when it is released', async () => {
    const key = await twoPlaceKey(fed, 'Guarded begins');
    await fed.hub.feed!.idle();
    const staff = new Received(await connect(fed.hub.url));
    staff.apply(await subscribe(staff.socket, { channel: `availability.${key.date}` }));
    const alice = fed.client(await fed.token('alice'));
    const forKey = () => staff.alerts.filter((alert) => alert.sessionId === key.sessionId).map((alert) => alert.type);

    // The hold's answer reads the key afresh (and caches it) before the change feed publishes it.
    const { hold, availability } = await alice.holds.create.mutate({ ...key, quantity: 2 });
    expect(availability.available).toBe(0);
    await staff.until('no_availability', () => forKey().includes('no_availability'));
    await alice.holds.release.mutate({ holdId: hold.holdId });
    await staff.until('places_available', () => forKey().includes('places_available'));
    await fed.hub.feed!.idle();
    expect(forKey()).toEqual(['no_availability', 'places_available']);
  }, 30_000);
});

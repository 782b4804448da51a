import { beforeAll, describe, expect, it } from 'vitest';
import { Types } from 'mongoose';
import { addDays, todayIn } from '@slotcast/shared';
import { differences, truthOf } from '../support/truth.ts';
import { isLeader, resyncingClient, startCluster, urlOf } from '../support/cluster.ts';
import type { Received } from '../support/sockets.ts';
import type { HubProcess } from '../support/hub-process.ts';

const SESSIONS = [new Types.ObjectId(), new Types.ObjectId()];
const today = todayIn('UTC');
const tomorrow = addDays(today, 1);
const keys = SESSIONS.flatMap((sessionId) => [today, tomorrow].map((date) => ({ sessionId, date })));

let cluster: Awaited<ReturnType<typeof startCluster>>;
let urls: string[];
let hubs: HubProcess[];

beforeAll(async () => {
  cluster = await startCluster();
  await cluster.models.Session.insertMany(
    SESSIONS.map((_id, i) => ({ _id, name: `Class ${i}`, startTime: `1${i}:00`, endTime: `1${i}:45`, capacity: 1000 })),
  );
  hubs = [cluster.spawn('hub-a'), cluster.spawn('hub-b')];
  urls = await Promise.all(hubs.map(urlOf));
  await Promise.race(hubs.map(isLeader));
}, 60_000);

/** Inserts, quantity changes, cancellations and moves, written straight into MongoDB as another service would. */
async function writeMix(count: number) {
  const made: Types.ObjectId[] = [];
  for (let i = 0; i < count; i += 1) {
    const key = keys[i % keys.length]!;
    if (i % 5 === 4 && made.length > 0) {
      await cluster.models.Booking.updateOne({ _id: made[i % made.length] }, { $set: { status: 'cancelled' } });
    } else if (i % 7 === 6 && made.length > 0) {
      await cluster.models.Booking.updateOne({ _id: made[(i * 3) % made.length] }, { $set: { quantity: 3 } });
    } else if (i % 11 === 10 && made.length > 0) {
      const target = keys[(i + 1) % keys.length]!;
      await cluster.models.Booking.updateOne({ _id: made[(i * 7) % made.length] }, { $set: { sessionId: target.sessionId, date: target.date } });
    } else {
      const booking = await cluster.models.Booking.create({ ...key, userId: `u${i % 9}`, quantity: 1 + (i % 2), status: 'confirmed' });
      made.push(booking._id);
    }
  }
}

async function converged(clients: Received[]) {
  const truth = await truthOf(cluster.models, today, tomorrow);
  await Promise.all(
    clients.map((client, i) =>
      client.until(`client ${i} to match MongoDB`, (r) => differences(r.state as never, truth).length === 0, 30_000).catch((error: Error) => {
        throw new Error(`${error.message}\n${differences(client.state as never, truth).join('\n')}`);
      }),
    ),
  );
}

describe('two hub processes behind one Redis', () => {
  it('bring every socket on either instance to the database state, each version once and in order', async () => {
    const channels = ['availability', `availability.${tomorrow}`, `availability.session.${SESSIONS[0]}`];
    const clients = await Promise.all([0, 1, 0, 1].map((i) => resyncingClient(urls[i]!, channels)));
    await writeMix(200);
    await converged(clients);
    for (const client of clients) {
      expect(client.versionsStrictlyIncrease()).toBe(true);
      expect(client.resyncs).toEqual([]);
    }
    // Updates from whichever instance leads reach sockets on both.
    expect(clients.every((client) => client.updates.length > 0)).toBe(true);
    // Redis was up all along: no connection of either hub may have failed (the adapter's subscriber once did, ioredis#2037).
    expect(hubs.flatMap((hub) => hub.logs.filter((line) => line.level >= 40))).toEqual([]);
  }, 90_000);

  it('gives a reconnecting client a snapshot never older than what it held', async () => {
    const channels = ['availability', `availability.${tomorrow}`];
    const first = await resyncingClient(urls[0]!, channels);
    await writeMix(40);
    await converged([first]);
    const held = new Map([...first.state.entries()].map(([key, row]) => [key, (row as { version: number }).version]));
    first.socket.close();
    await writeMix(20);
    const again = await resyncingClient(urls[1]!, channels);
    for (const [key, version] of held) {
      const row = again.state.get(key) as { version: number } | undefined;
      expect(row?.version, key).toBeGreaterThanOrEqual(version);
    }
    await converged([again]);
  }, 90_000);
});

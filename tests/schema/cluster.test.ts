import { describe, expect, it } from 'vitest';
import { Types } from 'mongoose';
import { addDays, keyOf, todayIn } from '@slotcast/shared';
import { isLeader, resyncingClient, startCluster, urlOf } from '../support/cluster.ts';
import type { Received } from '../support/sockets.ts';
import { countedByHand, studioCase, writerFor } from '../support/schemas.ts';

/**
 * Two hub processes on a mapped schema behind one Redis: writes to the mapped collections reach
 * sockets on both, and after kill -9 of the leader the other takes the feed over (its key index
 * and resync read through the mapping) and everything ends at the independent count.
 */
describe('a mapped schema across two hub processes', () => {
  it('converges on both, and again after kill -9 of the leader with writes made while no one led', async () => {
    const c = studioCase();
    const cluster = await startCluster({ env: c.env });
    const write = writerFor(cluster.database.connection, c);
    const sessions = [new Types.ObjectId(), new Types.ObjectId()];
    await write.sessions(sessions.map((_id, i) => ({ _id, name: `Class ${i}`, startTime: `1${i}:00`, endTime: `1${i}:45`, capacity: 1000 })));
    const today = todayIn('Europe/Paris');
    const dates = [today, addDays(today, 1)];
    const keys = sessions.flatMap((s) => dates.map((date) => ({ sessionId: String(s), date })));
    const hubs = [cluster.spawn('hub-a'), cluster.spawn('hub-b')];
    const urls = await Promise.all(hubs.map(urlOf));
    await Promise.race(hubs.map(isLeader));
    const channels = ['availability', `availability.${dates[1]}`];
    const clients = await Promise.all([0, 1].map((i) => resyncingClient(urls[i]!, channels)));

    const made: Types.ObjectId[] = [];
    const mix = async (count: number, offset: number) => {
      for (let i = offset; i < offset + count; i += 1) {
        const key = keys[i % keys.length]!;
        if (i % 5 === 4 && made.length > 0) await write.set('bookings', made[i % made.length], { status: 'cancelled' });
        else if (i % 7 === 6 && made.length > 0) await write.set('bookings', made[(i * 3) % made.length], { quantity: 3 });
        else if (i % 11 === 10 && made.length > 0) await write.set('bookings', made[(i * 7) % made.length], { ...keys[(i + 1) % keys.length]! });
        else if (i % 13 === 12) await write.raw('bookings', { ...c.bookingDoc({ ...key, userId: 'odd', quantity: 2, status: 'confirmed' }), seats: 2.5 });
        else made.push(await write.booking({ ...key, userId: `u${i % 9}`, quantity: 1 + (i % 2), status: 'confirmed' }));
      }
    };
    const converged = async (on: Received[]) => {
      const truth = await countedByHand(cluster.database.connection, c);
      const wrong = (r: Received) => keys.filter((key) => r.get(key.sessionId, key.date)?.booked !== (truth.get(keyOf(key)) ?? 0));
      await Promise.all(
        on.map((client, i) =>
          client.until(`client ${i} to match the documents`, (r) => wrong(r).length === 0, 30_000).catch((error: Error) => {
            throw new Error(`${error.message}: ${wrong(client).map(keyOf).join(', ')}\n${cluster.diagnostics()}`);
          }),
        ),
      );
      return truth;
    };

    await mix(120, 0);
    const first = await converged(clients);
    expect([...first.values()].some((booked) => booked > 0)).toBe(true);
    for (const client of clients) expect(client.versionsStrictlyIncrease()).toBe(true);

    const leader = hubs.findIndex((hub) => hub.logs.some((line) => line.msg === 'leader lease acquired'));
    expect(leader).toBeGreaterThanOrEqual(0);
    const survivor = hubs[1 - leader]!;
    hubs[leader]!.child.kill('SIGKILL');
    await mix(60, 120);
    await isLeader(survivor);
    await converged([clients[1 - leader]!]);
  }, 120_000);
});

import { Types } from 'mongoose';
import { addDays, todayIn } from '@slotcast/shared';
import { differences, truthOf } from './truth.ts';
import { isLeader, startCluster, urlOf } from './cluster.ts';
import type { Received } from './sockets.ts';
import type { HubProcess } from './hub-process.ts';

/**
 * The two-instance suites' world: two classes on today and tomorrow, two hub processes on one
 * Redis or (with `redisCluster`) a Redis Cluster, started once a leader holds the lease.
 */
export async function startTwoHubs(options: { redisCluster?: boolean; capacity: number }) {
  const sessions = [new Types.ObjectId(), new Types.ObjectId()];
  const today = todayIn('UTC');
  const tomorrow = addDays(today, 1);
  const keys = sessions.flatMap((sessionId) => [today, tomorrow].map((date) => ({ sessionId, date })));
  const cluster = await startCluster({ redisCluster: options.redisCluster });
  await cluster.models.Session.insertMany(
    sessions.map((_id, i) => ({ _id, name: `Class ${i}`, startTime: `1${i}:00`, endTime: `1${i}:45`, capacity: options.capacity })),
  );
  const hubs: HubProcess[] = [cluster.spawn('hub-a'), cluster.spawn('hub-b')];
  const urls = await Promise.all(hubs.map(urlOf));
  await Promise.race(hubs.map(isLeader));

  /** Inserts, quantity changes, cancellations and (with `moves`) moves to another key, written straight into MongoDB as another service would. */
  async function writeMix(count: number, options: { moves?: boolean; onWrite?: (i: number) => unknown } = {}) {
    const made: Types.ObjectId[] = [];
    for (let i = 0; i < count; i += 1) {
      const key = keys[i % keys.length]!;
      if (i % 5 === 4 && made.length > 0) {
        await cluster.models.Booking.updateOne({ _id: made[i % made.length] }, { $set: { status: 'cancelled' } });
      } else if (i % 7 === 6 && made.length > 0) {
        await cluster.models.Booking.updateOne({ _id: made[(i * 3) % made.length] }, { $set: { quantity: 3 } });
      } else if (options.moves && i % 11 === 10 && made.length > 0) {
        const target = keys[(i + 1) % keys.length]!;
        await cluster.models.Booking.updateOne({ _id: made[(i * 7) % made.length] }, { $set: { sessionId: target.sessionId, date: target.date } });
      } else {
        const booking = await cluster.models.Booking.create({ ...key, userId: `u${i % 9}`, quantity: 1 + (i % 2), status: 'confirmed' });
        made.push(booking._id);
      }
      await options.onWrite?.(i);
    }
  }

  /** Every client's state equals MongoDB's (today and tomorrow), or the differences and the hubs' diagnostics. */
  async function converged(clients: Received[], timeoutMs = 30_000) {
    const truth = await truthOf(cluster.models, today, tomorrow);
    await Promise.all(
      clients.map((client, i) =>
        client.until(`client ${i} to match MongoDB`, (r) => differences(r.state as never, truth).length === 0, timeoutMs).catch((error: Error) => {
          throw new Error(`${error.message}\n${differences(client.state as never, truth).join('\n')}\n${cluster.diagnostics()}`);
        }),
      ),
    );
  }

  return { cluster, hubs, urls, sessions, today, tomorrow, keys, writeMix, converged };
}

import { beforeAll, describe, expect, it } from 'vitest';
import { Types } from 'mongoose';
import { SAT, id, ids, writeFixture } from '../support/fixture.ts';
import { startTestHub, type TestHub } from '../support/hub.ts';
import { openStream, type Tracked } from '../support/stream.ts';
import { testDatabaseUri } from '../support/database.ts';
import { fileRedisCluster, testClusterClient } from '../support/redis-cluster.ts';
import { unique } from '../support/names.ts';
import { CLUSTER_EVENT_BUCKETS, redisKeys } from '../../server/src/cluster/keys.ts';

// SSE resumes on a Redis Cluster, where the event log is several streams (one per bucket of keys).

let a: TestHub;
let b: TestHub;
const prefix = unique('sse');

beforeAll(async () => {
  const mongoUri = testDatabaseUri();
  const seeds = (await fileRedisCluster()).seeds;
  const env = { REDIS_CLUSTER_NODES: seeds, REDIS_KEY_PREFIX: prefix };
  // These tests drive the engine by hand, so no change feed runs; two instances behind a load balancer.
  a = await startTestHub({ mongoUri, seams: { changeFeed: false }, env });
  b = await startTestHub({ mongoUri, seams: { changeFeed: false }, env });
  await writeFixture(a.hub.database.models);
}, 60_000);

async function book(hub: TestHub, sessionId: string, date: string) {
  await hub.hub.database.models.Booking.collection.insertOne({
    sessionId: new Types.ObjectId(sessionId),
    date,
    quantity: 1,
    status: 'confirmed',
    userId: 'user-1',
    createdAt: new Date(),
    updatedAt: new Date(),
  });
  return hub.hub.writes.recompute([{ sessionId, date }], 'booking');
}

/** Availability updates only: a booking may also raise an alert on the same channel. */
const updates = (events: Tracked[]) => events.filter((event) => event.data.type === 'availability.updated');
const bookedOf = (events: Tracked[]) => updates(events).map((event) => `${(event.data.data as { name: string }).name}:${(event.data.data as { booked: number }).booked}`);

describe('availability.subscribe over SSE on a Redis Cluster', () => {
  it('resumes from a cursor over every stream: exactly the missed events of every session, none twice, then live ones', async () => {
    const sessions = [id(ids.swim), id(ids.yoga), id(ids.spin)];
    const first = openStream(a.client(), `availability.${SAT}`);
    await first.until('the snapshot', (events) => events.length >= 3);
    for (const session of sessions) await book(a, session, SAT);
    const seen = updates(await first.until('three live updates', (events) => updates(events).length >= 6));
    const lastId = first.events.at(-1)!.id;
    first.close();
    // A cursor holds one stream id per stream.
    expect(lastId.split('_')).toHaveLength(CLUSTER_EVENT_BUCKETS);

    // Two changes per session while nobody listens, from either instance.
    for (const session of sessions) await book(a, session, SAT);
    for (const session of [...sessions].reverse()) await book(b, session, SAT);

    const resumed = openStream(b.client(), `availability.${SAT}`, lastId);
    const missed = updates(await resumed.until('the six missed updates', (got) => updates(got).length >= 6));
    await book(a, id(ids.swim), SAT);
    const all = await resumed.until('the next live update', (got) => updates(got).length >= 7);
    expect(new Set(all.map((event) => event.id)).size).toBe(all.length);
    // Per session the booked counts continue from the first stream's, in order, none missing or twice.
    const before = Object.fromEntries(seen.slice(3).map((event) => [(event.data.data as { name: string }).name, (event.data.data as { booked: number }).booked]));
    for (const name of Object.keys(before)) {
      const counts = bookedOf(all).filter((entry) => entry.startsWith(`${name}:`)).map((entry) => Number(entry.split(':')[1]));
      const expected = name === 'Morning Swim' ? [1, 2, 3] : [1, 2];
      expect(counts, name).toEqual(expected.map((step) => before[name]! + step));
    }
    expect(missed).toHaveLength(6);
    resumed.close();

    // The events went to more than one stream, so more than one master carried them.
    const redis = await testClusterClient();
    const lengths = await Promise.all(redisKeys(prefix, { spread: CLUSTER_EVENT_BUCKETS }).events.map((key) => redis.xlen(key)));
    expect(lengths.filter((length) => length > 0).length).toBeGreaterThan(1);
  }, 60_000);
});

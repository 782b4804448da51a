import { beforeAll, describe, expect, it } from 'vitest';
import calculateSlot from 'cluster-key-slot';
import { Redis } from 'ioredis';
import { redisKeys } from '../../server/src/cluster/keys.ts';
import { resyncingClient } from '../support/cluster.ts';
import { startTwoHubs } from '../support/two-hubs.ts';
import { waitFor } from '../support/events.ts';
import { connect, subscribe } from '../support/sockets.ts';
import { whenDone } from '../support/cleanup.ts';
import type { Received } from '../support/sockets.ts';
import type { HubProcess } from '../support/hub-process.ts';

// The two-instance suite, on a Redis Cluster of 3 masters and 3 replicas (REDIS_CLUSTER_NODES).

let world: Awaited<ReturnType<typeof startTwoHubs>>;
let cluster: typeof world.cluster;
let urls: string[];
let hubs: HubProcess[];
let SESSIONS: typeof world.sessions;
let today: string;
let tomorrow: string;
const writeMix = (count: number, onWrite?: (i: number) => unknown) => world.writeMix(count, { onWrite });
const converged = (clients: Received[]) => world.converged(clients, 45_000);

beforeAll(async () => {
  world = await startTwoHubs({ redisCluster: true, capacity: 5000 });
  ({ cluster, urls, hubs, sessions: SESSIONS, today, tomorrow } = world);
}, 90_000);

const ready = async (url: string) => (await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(3_000) })).status;

/** How many subscribers a sharded channel has over the whole cluster (each master counts its own). */
async function shardSubscribers(channel: string): Promise<number> {
  const masters = await cluster.redisCluster!.masters();
  const counts = await Promise.all(
    masters.map(async (port) => {
      const redis = new Redis({ port, host: '127.0.0.1' });
      try {
        const reply = (await redis.call('PUBSUB', 'SHARDNUMSUB', channel)) as [string, number];
        return Number(reply[1]);
      } finally {
        redis.disconnect();
      }
    }),
  );
  return counts.reduce((sum, n) => sum + n, 0);
}

describe('two hub processes on a Redis Cluster', () => {
  it('are ready (a round trip through the store and the sharded adapter) and bring every socket to the database state, each version once and in order', async () => {
    const started = performance.now();
    expect(await Promise.all(urls.map(ready))).toEqual([200, 200]);
    console.info(`/readyz on a Redis Cluster (store round trip on 6 slices + pub/sub round trip on 6 sharded channels, MongoDB ping): ${Math.round(performance.now() - started)} ms for both hubs`);
    const channels = ['availability', `availability.${tomorrow}`, `availability.session.${SESSIONS[0]}`];
    const clients = await Promise.all([0, 1, 0, 1].map((i) => resyncingClient(urls[i]!, channels)));
    await writeMix(150);
    await converged(clients);
    for (const client of clients) {
      expect(client.versionsStrictlyIncrease()).toBe(true);
      expect(client.resyncs).toEqual([]);
      expect(client.failures).toEqual([]);
    }
    expect(clients.every((client) => client.updates.length > 0)).toBe(true);
    // The cluster was healthy all along: no connection of either hub may have failed.
    expect(hubs.flatMap((hub) => hub.logs.filter((line) => line.level >= 40))).toEqual([]);
  }, 120_000);

  it('subscribes an instance only to the rooms its sockets are in (sharded pub/sub, dynamic mode)', async () => {
    const room = `availability.session.${SESSIONS[1]}`;
    const channel = `${redisKeys(cluster.prefix).adapter}#/availability#${room}#`;
    expect(await shardSubscribers(channel)).toBe(0);
    const onA = await connect(urls[0]!);
    whenDone(() => onA.close());
    expect((await subscribe(onA, { channel: room })).ok).toBe(true);
    // The subscribe ack comes after Redis confirmed the room’s subscription (pubsub.test.ts shows the order).
    expect(await shardSubscribers(channel)).toBe(1);
    const onB = await connect(urls[1]!);
    whenDone(() => onB.close());
    expect((await subscribe(onB, { channel: room })).ok).toBe(true);
    expect(await shardSubscribers(channel)).toBe(2);
    onA.close();
    await waitFor('hub-a to drop the room’s subscription once its last socket left', async () => (await shardSubscribers(channel)) === 1 || undefined, { timeoutMs: 10_000, intervalMs: 50 });
  }, 60_000);

  /**
   * Sockets on both hubs, 300 writes with the master serving `slot` killed at the 100th: no hub
   * crashes, every socket converges with no version twice, and both hubs are ready again.
   */
  async function masterKilledMidStream(slot: number, channels: string[], hubOfClient: number[]) {
    const clients = await Promise.all(hubOfClient.map((i) => resyncingClient(urls[i]!, channels)));
    let failover: Promise<{ killed: number; promoted: number; ms: number }> | undefined;
    await writeMix(300, (i) => {
      if (i === 100) failover = cluster.redisCluster!.killMasterOf(slot);
    });
    const took = await failover!;
    await converged(clients);
    for (const client of clients) {
      // Across the outage a lease may change hands: order is not promised then, but no version comes twice.
      expect(client.noVersionTwice()).toBe(true);
      expect(client.failures).toEqual([]);
    }
    for (const hub of hubs) expect(hub.child.exitCode).toBeNull();
    // Both answer ready again once the replica serves the slot.
    await waitFor('both hubs ready again', async () => ((await Promise.all(urls.map(ready))).every((status) => status === 200) ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 200,
    });
    return { ...took, retried: clients.reduce((sum, client) => sum + client.retried, 0) };
  }

  it('a master killed mid-stream (the lease’s): its replica takes over, no hub crashes, every socket converges, each version once', async () => {
    const leaseSlot = calculateSlot(redisKeys(cluster.prefix).leader);
    const took = await masterKilledMidStream(leaseSlot, ['availability', `availability.${today}`, `availability.session.${SESSIONS[1]}`], [0, 1, 1, 0]);
    console.info(`redis cluster failover: master ${took.killed} -> replica ${took.promoted} serving slot ${leaseSlot} in ${took.ms} ms; ${took.retried} subscribes asked again`);
    expect(took.promoted).not.toBe(took.killed);
  }, 180_000);

  it('a master killed mid-stream while the lease stays put: the leader keeps leading, sockets resync once the replica took over, each version once', async () => {
    const slot = await cluster.redisCluster!.slotOfAnotherMaster(calculateSlot(redisKeys(cluster.prefix).leader));
    const leadersBefore = hubs.map((hub) => hub.logs.filter((line) => line.msg === 'leader lease acquired').length);
    const took = await masterKilledMidStream(slot, ['availability', `availability.${tomorrow}`, `availability.session.${SESSIONS[0]}`], [1, 0, 1, 0]);
    // The sharded subscribers lost a master: once they resubscribed on its replica, each hub said so and resynced its sockets.
    await Promise.all(hubs.map((hub) => hub.waitForLog((line) => line.msg === 'redis cluster subscriptions restored', 20_000)));
    expect(hubs.map((hub) => hub.logs.filter((line) => line.msg === 'leader lease acquired').length)).toEqual(leadersBefore);
    console.info(`redis cluster failover (not the lease's master): ${took.killed} -> ${took.promoted} serving slot ${slot} in ${took.ms} ms; ${took.retried} subscribes asked again`);
  }, 180_000);
});

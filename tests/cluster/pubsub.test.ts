import { describe, expect, inject, it } from 'vitest';
import { AVAILABILITY_NAMESPACE } from '@slotcast/shared';
import { redisPubSub } from '../../server/src/cluster/pubsub.ts';
import { storeRoundTrip } from '../../server/src/cluster/health.ts';
import { CLUSTER_EVENT_BUCKETS, redisKeys } from '../../server/src/cluster/keys.ts';
import { openRedis, type RedisClient } from '../../server/src/cluster/redis.ts';
import { unique } from '../support/names.ts';
import { whenDone } from '../support/cleanup.ts';
import { fileRedisCluster, REDIS_FLAVOURS } from '../support/redis-cluster.ts';

/** A publisher and a subscriber as the hub opens them for its adapter, closed when the test ends. */
async function adapterClients(cluster: boolean): Promise<{ pub: RedisClient; sub: RedisClient }> {
  const target = cluster
    ? { cluster: (await fileRedisCluster()).nodes.map((node) => ({ host: '127.0.0.1', port: node.port })) }
    : { url: inject('redisUrl') };
  const pub = openRedis(target, 'test-pub', { waitForConnection: true });
  const sub = openRedis(target, 'test-sub', { waitForConnection: true, subscriber: true });
  whenDone(() => {
    pub.disconnect();
    sub.disconnect();
  });
  return { pub, sub };
}

for (const flavour of REDIS_FLAVOURS) {
  describe(`${flavour.name}: what /readyz asks of Redis`, () => {
    it('the store round trip writes and reads back a value on every slice of the slots, and says false within its bound once Redis is gone', async () => {
      const keys = redisKeys(unique('health'), { spread: flavour.cluster ? CLUSTER_EVENT_BUCKETS : 1 });
      const redis = await flavour.connect();
      expect(keys.health('hub-a')).toHaveLength(flavour.cluster ? CLUSTER_EVENT_BUCKETS : 1);
      expect(await storeRoundTrip(redis, keys.health('hub-a'), 500)).toBe(true);
      for (const key of keys.health('hub-a')) expect(await redis.pttl(key)).toBeGreaterThan(0);
      const gone = redis.duplicate();
      gone.disconnect();
      const started = performance.now();
      expect(await storeRoundTrip(gone, keys.health('hub-a'), 500)).toBe(false);
      expect(performance.now() - started).toBeLessThan(1_000);
    });

    it('the pub/sub round trip crosses Redis through the adapter’s own clients, and says false within its bound when the subscriber is gone', async () => {
      const { pub, sub } = await adapterClients(flavour.cluster);
      const keys = redisKeys(unique('pubsub'));
      const pubsub = redisPubSub({ pub, sub, channelPrefix: keys.adapter, healthPrefix: keys.adapterHealth, instance: 'hub-a', sharded: flavour.cluster });
      expect(await pubsub.roundTrip(2_000)).toBe(true);
      // Closed for good, not half-closed: a message already on its way could still arrive on a closing socket.
      const ended = new Promise((resolve) => sub.once('end', resolve));
      sub.disconnect();
      await ended;
      const started = performance.now();
      expect(await pubsub.roundTrip(500)).toBe(false);
      expect(performance.now() - started).toBeLessThan(1_000);
    });
  });
}

describe('the sharded adapter’s room subscriptions', () => {
  it('are waited for: `subscribed` resolves only after Redis confirmed the SSUBSCRIBE the adapter sent on the join', async () => {
    const { pub, sub } = await adapterClients(true);
    const keys = redisKeys(unique('rooms'));
    const pubsub = redisPubSub({ pub, sub, channelPrefix: keys.adapter, healthPrefix: keys.adapterHealth, instance: 'hub-a', sharded: true });
    const room = 'availability.2026-12-03';
    const order: string[] = [];
    // What the sharded adapter does on "create-room": SSUBSCRIBE the room's channel, without waiting.
    const sent = (sub as unknown as { ssubscribe(channel: string): Promise<unknown> }).ssubscribe(`${keys.adapter}#${AVAILABILITY_NAMESPACE}#${room}#`);
    void sent.then(() => order.push('confirmed by Redis'));
    await pubsub.subscribed([room, 'availability']);
    order.push('subscribed');
    expect(order).toEqual(['confirmed by Redis', 'subscribed']);
    // A room with nothing pending is subscribed at once.
    await pubsub.subscribed(['availability.user.nobody']);
  });
});

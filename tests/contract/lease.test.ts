import { describe, expect, inject, it, vi } from 'vitest';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { redisKeys } from '../../server/src/cluster/keys.ts';
import { LocalLease, RedisLease } from '../../server/src/cluster/lease.ts';
import { whenDone } from '../support/cleanup.ts';
import { run } from '../support/lease.ts';
import { unique } from '../support/names.ts';
import { testRedis } from '../support/redis.ts';
import { REDIS_FLAVOURS } from '../support/redis-cluster.ts';
import type { RedisClient } from '../../server/src/cluster/redis.ts';
import { leaseContract, type SharedLeaseWorld } from './lease.contract.ts';

// The local lease is one process's, held from start to stop, with nothing outside the process
// to share or fence: there is no second holder, so the takeover and fencing cases do not apply.
// Its epoch is always 1 for the same reason.
leaseContract('local', () => ({
  open: () => ({ lease: new LocalLease(), settle: async () => undefined }),
  key: (name) => name,
}));

/** One Redis or a cluster: on a cluster every key the lease's scripts touch shares its hash tag. */
function redisWorld(connect: () => Promise<RedisClient>) {
  return async (): Promise<SharedLeaseWorld> => {
    const keys = redisKeys(unique('lease'));
    const store = await connect();
    // A connection per holder, as separate processes have; opened up front because `open` is synchronous.
    const connections = await Promise.all([1, 2, 3].map(() => connect()));
    let holders = 0;
    return {
      // `settle` waits behind the holder's queue.
      open: (ttlMs) => {
        const redis = connections[holders % connections.length]!;
        holders += 1;
        const lease = new RedisLease(redis, keys, `holder-${holders}`, ttlMs, pino({ level: 'silent' }));
        return { lease, settle: async () => void (await redis.get(keys.leader)) };
      },
      key: (name) => keys.fenced(name),
      read: (key) => store.get(key),
      leader: () => store.get(keys.leader),
      expire: async () => void (await store.del(keys.leader)),
    };
  };
}

for (const flavour of REDIS_FLAVOURS) leaseContract(flavour.name, redisWorld(flavour.connect), redisWorld(flavour.connect));

describe('redis lease takeover timing', () => {
  const silent = pino({ level: 'silent' });
  const connect = testRedis;
  const world = () => {
    const keys = redisKeys(unique('lease-timing'));
    const open = (name: string, ttlMs: number, options: { announce?: boolean } = {}) => {
      // Its own connection, not the suite's (closed after the file): a test may cut it.
      const redis = new Redis(inject('redisUrl'));
      whenDone(() => (redis.status === 'end' ? undefined : redis.quit()));
      const lease = new RedisLease(redis, keys, name, ttlMs, silent, options.announce ? connect() : undefined);
      return { redis, running: run(lease) };
    };
    return { keys, open, store: connect() };
  };

  it('a follower refused by a holding tries again as it expires, not up to a third of a TTL later', async () => {
    const { keys, open, store } = world();
    const first = open('first', 3_000);
    await first.running.held();
    const second = open('second', 3_000);
    await second.redis.ping();
    // The holder dies: no renewal and no release, its holding runs out by itself.
    first.redis.disconnect();
    const expiresAt = performance.now() + Number(await store.pttl(keys.leader));
    await second.running.held(5_000);
    const late = performance.now() - expiresAt;
    // Trying every third of the TTL would come 0-1,000 ms after the expiry.
    expect(late).toBeGreaterThan(-50);
    expect(late).toBeLessThan(250);
  });

  it('a holder that stops says so, and a listening follower takes over at once, not at its next try', async () => {
    const { open } = world();
    const first = open('first', 30_000, { announce: true });
    await first.running.held();
    const second = open('second', 30_000, { announce: true });
    await second.redis.ping();
    const stoppedAt = performance.now();
    await first.running.lease.stop();
    // Its own next try would come 10 s (a third of the TTL) after its first.
    await second.running.held(2_000);
    expect(performance.now() - stoppedAt).toBeLessThan(1_000);
    expect(second.running.lease.epoch).toBeGreaterThan(first.running.acquired[0]!);
  });

  it('a holding that ran out while no one took it is taken back by the next renewal, same epoch, no loss', async () => {
    const { keys, open, store } = world();
    const first = open('first', 3_000);
    const epoch = await first.running.held();
    const holding = await store.get(keys.leader);
    // As if a renewal had come too late (a blocked event loop): the holding is gone, the epoch counter has not moved.
    await store.del(keys.leader);
    await vi.waitFor(async () => expect(await store.get(keys.leader)).toBe(holding), { timeout: 3_000, interval: 50 });
    expect(first.running.lost).toEqual([]);
    expect(first.running.lease.epoch).toBe(epoch);
    expect(first.running.lease.isHeld()).toBe(true);
  });
});

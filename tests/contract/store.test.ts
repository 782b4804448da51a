import { describe, expect, it } from 'vitest';
import { memoryStores } from '../../server/src/availability/store/memory.ts';
import { cacheTtlPolicy, redisStores } from '../../server/src/availability/store/redis.ts';
import { sampleRow } from '../support/rows.ts';
import type { AvailabilityStores } from '../../server/src/availability/store/ports.ts';
import { redisKeys } from '../../server/src/cluster/keys.ts';
import { unique } from '../support/names.ts';
import { testRedis } from '../support/redis.ts';
import { REDIS_FLAVOURS } from '../support/redis-cluster.ts';
import { storeContract } from './store.contract.ts';

storeContract('memory', async () => {
  const store = memoryStores(60_000);
  // One process holds one memory store; a restarted one starts empty but must still only go up.
  return { store, reopen: (): AvailabilityStores => store };
});

for (const flavour of REDIS_FLAVOURS) {
  storeContract(flavour.name, async () => {
    const keys = redisKeys(unique('store'));
    // Two connections, as a restarted instance has; on a cluster the snapshots spread over the masters.
    const [first, next] = [await flavour.connect(), await flavour.connect()];
    return { store: redisStores(first, keys, () => 60), reopen: () => redisStores(next, keys, () => 60) };
  });
}

describe('the shared cache’s bound', () => {
  it('keeps dates inside the feed’s horizon for CACHE_TTL_SECONDS and any other date five minutes at most', async () => {
    const keys = redisKeys(unique('ttl'));
    const redis = testRedis();
    const { cache } = redisStores(redis, keys, cacheTtlPolicy(3600, () => ({ from: '2026-12-01', to: '2026-12-31' })));
    const inside = sampleRow(5, 1, { date: '2026-12-10' });
    const outside = sampleRow(6, 1, { date: '2030-01-01' });
    await cache.put([inside, outside]);
    expect(await redis.ttl(keys.availability(inside))).toBeGreaterThan(3500);
    const far = await redis.ttl(keys.availability(outside));
    expect(far).toBeGreaterThan(0);
    expect(far).toBeLessThanOrEqual(300);
  });
});

import { describe, expect, it } from 'vitest';
import { memoryStores } from '../../server/src/availability/store/memory.ts';
import { cacheTtlPolicy, redisStores } from '../../server/src/availability/store/redis.ts';
import { sampleRow } from '../support/rows.ts';
import type { AvailabilityStores } from '../../server/src/availability/store/ports.ts';
import { redisKeys } from '../../server/src/cluster/keys.ts';
import { unique } from '../support/names.ts';
import { testRedis } from '../support/redis.ts';
import { storeContract } from './store.contract.ts';

storeContract('memory', async () => {
  const store = memoryStores(60_000);
  // One process holds one memory store; a restarted one starts empty but must still only go up.
  return { store, reopen: (): AvailabilityStores => store };
});

storeContract('redis', async () => {
  const keys = redisKeys(unique('store'));
  const connect = () => {
    const redis = testRedis();
    return redisStores(redis, keys, () => 60);
  };
  return { store: connect(), reopen: connect };
});

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

import { afterAll, inject } from 'vitest';
import { Redis } from 'ioredis';
import { memoryStores } from '../../server/src/availability/store/memory.ts';
import { redisStores } from '../../server/src/availability/store/redis.ts';
import type { AvailabilityStores } from '../../server/src/availability/store/ports.ts';
import { redisKeys } from '../../server/src/cluster/keys.ts';
import { unique } from '../support/names.ts';
import { storeContract } from './store.contract.ts';

storeContract('memory', async () => {
  const store = memoryStores(60_000);
  // One process holds one memory store; a restarted one starts empty but must still only go up.
  return { store, reopen: (): AvailabilityStores => store };
});

const connections: Redis[] = [];
afterAll(async () => {
  await Promise.all(connections.map((redis) => redis.quit()));
});

storeContract('redis', async () => {
  const keys = redisKeys(unique('store'));
  const connect = () => {
    const redis = new Redis(inject('redisUrl'));
    connections.push(redis);
    return redisStores(redis, keys, 60);
  };
  return { store: connect(), reopen: connect };
});

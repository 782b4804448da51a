import { afterAll, inject } from 'vitest';
import { Redis } from 'ioredis';
import { MemoryStore, type AvailabilityStore } from '../../server/src/availability/store.ts';
import { RedisStore } from '../../server/src/availability/store-redis.ts';
import { redisKeys } from '../../server/src/cluster/keys.ts';
import { unique } from '../support/names.ts';
import { storeContract } from './store.contract.ts';

storeContract('memory', async () => {
  const store = new MemoryStore(60_000);
  // One process holds one memory store; a restarted one starts empty but must still only go up.
  return { store, reopen: (): AvailabilityStore => store };
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
    return new RedisStore(redis, keys, 60);
  };
  return { store: connect(), reopen: connect };
});

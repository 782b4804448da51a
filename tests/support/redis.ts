import { afterAll, inject } from 'vitest';
import { Redis } from 'ioredis';

const open: Redis[] = [];
afterAll(async () => {
  await Promise.all(open.splice(0).map((redis) => redis.quit()));
});

/** A connection to the suite's redis-server, closed after the file. */
export function testRedis(): Redis {
  const redis = new Redis(inject('redisUrl'));
  open.push(redis);
  return redis;
}

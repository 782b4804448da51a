import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { MemoryKeyIndex, RedisKeyIndex, type KeyIndex } from '../../server/src/feed/key-index.ts';
import { unique } from '../support/names.ts';
import { testRedis } from '../support/redis.ts';
import { REDIS_FLAVOURS } from '../support/redis-cluster.ts';
import { keyIndexContract } from './key-index.contract.ts';

keyIndexContract('memory', async () => {
  const index = new MemoryKeyIndex();
  // One process holds one memory index; the next leader in that process is the same object.
  return { index, reopen: (): KeyIndex => index };
});

const connect = testRedis;

for (const flavour of REDIS_FLAVOURS) {
  keyIndexContract(flavour.name, async () => {
    const hash = unique('booking-keys');
    // Two connections, as two leaders one after the other have.
    const [first, next] = [await flavour.connect(), await flavour.connect()];
    return { index: new RedisKeyIndex(first, hash), reopen: () => new RedisKeyIndex(next, hash) };
  });
}

// Only the Redis index holds text another program could have written; the memory one holds Keys.
describe('redis key index', () => {
  it('reads a stored value that is no key as unknown, and counts and logs it', async () => {
    const hash = unique('booking-keys');
    const redis = connect();
    const warnings: Record<string, unknown>[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line) as Record<string, unknown>) });
    const index = new RedisKeyIndex(redis, hash, logger);
    const S1 = 'a'.repeat(24);
    await redis.hset(hash, { b1: 'garbage', b2: `not-an-id:2026-11-24`, b3: `${S1}:2026-02-30`, b4: `${S1}:2026-11-24` });
    expect(await index.get(['b1', 'b2', 'b3', 'b4'])).toEqual([undefined, undefined, undefined, { sessionId: S1, date: '2026-11-24' }]);
    expect(index.unreadable).toBe(3);
    expect(warnings.map((line) => line.id)).toEqual(['b1', 'b2', 'b3']);
    expect(warnings[0]).toMatchObject({ hash, value: 'garbage', msg: expect.stringMatching(/no key/) });
  });
});

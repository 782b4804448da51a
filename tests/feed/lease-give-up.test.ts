import { describe, expect, inject, it } from 'vitest';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { LocalLease, RedisLease } from '../../server/src/cluster/lease.ts';
import { redisKeys } from '../../server/src/cluster/keys.ts';
import { whenDone } from '../support/cleanup.ts';
import { unique } from '../support/names.ts';
import { Waiter } from '../support/waiter.ts';

const TTL_MS = 600;
const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

describe('Lease.giveUp', () => {
  it('Redis: a holder that gives up releases the lease at once, another takes it, and it stays away for two TTLs', async () => {
    const redis = new Redis(inject('redisUrl'));
    whenDone(() => redis.quit());
    const keys = redisKeys(unique('lease'));
    const waiter = new Waiter();
    const events: { what: string; at: number }[] = [];
    const lease = (name: string) => {
      const held = new RedisLease(redis, keys, name, TTL_MS, logger);
      held.start({
        onAcquired: () => {
          events.push({ what: `${name} acquired`, at: performance.now() });
          waiter.wake();
        },
        onLost: (reason) => {
          events.push({ what: `${name} lost: ${reason}`, at: performance.now() });
          waiter.wake();
        },
      });
      whenDone(() => held.stop());
      return held;
    };
    const seen = (what: string) => () => events.some((event) => event.what === what);
    const a = lease('a');
    await waiter.until('a to lead', seen('a acquired'), 5_000);
    const b = lease('b');

    const gaveUpAt = performance.now();
    await a.giveUp('feed stalled');
    expect(a.isHeld()).toBe(false);
    await waiter.until('b to take over', seen('b acquired'), 5_000);
    expect(events.map((event) => event.what)).toEqual(['a acquired', 'a lost: gave up: feed stalled', 'b acquired']);
    // Released, not expired: b is in within its next try (a third of the TTL), well before the TTL.
    expect(events.at(-1)!.at - gaveUpAt).toBeLessThan(TTL_MS);

    await b.stop();
    await waiter.until('a to lead again once b is gone', () => events.filter((event) => event.what === 'a acquired').length === 2, 5_000);
    expect(events.filter((event) => event.what === 'a acquired').at(-1)!.at - gaveUpAt).toBeGreaterThanOrEqual(2 * TTL_MS);
  });

  it('single instance: giving up restarts the feed (lost, then acquired again), since no other instance can take over', async () => {
    const lease = new LocalLease();
    const events: string[] = [];
    lease.start({ onAcquired: (epoch) => events.push(`acquired ${epoch}`), onLost: (reason) => events.push(`lost: ${reason}`) });
    await lease.giveUp('feed stalled');
    expect(events).toEqual(['acquired 1', 'lost: feed stalled', 'acquired 1']);
    expect(lease.isHeld()).toBe(true);
    await lease.stop();
    await lease.giveUp('after stop');
    // stop says so once (every change of holding is announced); giving up after it does nothing.
    expect(events).toEqual(['acquired 1', 'lost: feed stalled', 'acquired 1', 'lost: stopping']);
  });
});

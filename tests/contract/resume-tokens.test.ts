import { pino } from 'pino';
import { redisKeys } from '../../server/src/cluster/keys.ts';
import { LocalLease, RedisLease } from '../../server/src/cluster/lease.ts';
import { MemoryResumeTokens, RedisResumeTokens } from '../../server/src/feed/resume-tokens.ts';
import { run } from '../support/lease.ts';
import { unique } from '../support/names.ts';
import { REDIS_FLAVOURS } from '../support/redis-cluster.ts';
import type { RedisClient } from '../../server/src/cluster/redis.ts';
import { resumeTokensContract, type SharedTokensWorld } from './resume-tokens.contract.ts';

// The memory tokens live in one process under its local lease: there is no next leader to
// resume from them or to fence this one off, so the case between leaders does not apply.
resumeTokensContract('memory', async () => {
  const running = run(new LocalLease());
  await running.held();
  return {
    tokens: new MemoryResumeTokens(running.lease),
    lease: running.lease,
    unheld: () => new MemoryResumeTokens(new LocalLease()),
  };
});

/** Long enough that no renewal falls inside a test: the former leader still believes it holds. */
const TTL_MS = 30_000;

/** On a cluster the tokens share the lease's hash tag, so the fenced write is one script. */
function redisWorld(connect: () => Promise<RedisClient>) {
  return async (): Promise<SharedTokensWorld> => {
    const keys = redisKeys(unique('tokens'));
    const lease = (holder: string, redis: RedisClient) => new RedisLease(redis, keys, holder, TTL_MS, pino({ level: 'silent' }));
    const redis = await connect();
    const running = run(lease('first', redis));
    await running.held();
    return {
      tokens: new RedisResumeTokens(redis, running.lease, keys.resumeToken),
      lease: running.lease,
      unheld: () => new RedisResumeTokens(redis, lease('bystander', redis), keys.resumeToken),
      async takeOver() {
        await redis.del(keys.leader);
        const other = await connect();
        const next = run(lease('next', other));
        await next.held();
        return new RedisResumeTokens(other, next.lease, keys.resumeToken);
      },
    };
  };
}

for (const flavour of REDIS_FLAVOURS) resumeTokensContract(flavour.name, redisWorld(flavour.connect), redisWorld(flavour.connect));

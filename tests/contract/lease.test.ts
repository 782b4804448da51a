import { pino } from 'pino';
import { redisKeys } from '../../server/src/cluster/keys.ts';
import { LocalLease, RedisLease } from '../../server/src/cluster/lease.ts';
import { unique } from '../support/names.ts';
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

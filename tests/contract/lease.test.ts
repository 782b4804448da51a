import { pino } from 'pino';
import { redisKeys } from '../../server/src/cluster/keys.ts';
import { LocalLease, RedisLease } from '../../server/src/cluster/lease.ts';
import { unique } from '../support/names.ts';
import { testRedis } from '../support/redis.ts';
import { leaseContract, type SharedLeaseWorld } from './lease.contract.ts';

// The local lease is one process's, held from start to stop, with nothing outside the process
// to share or fence: there is no second holder, so the takeover and fencing cases do not apply.
// Its epoch is always 1 for the same reason.
leaseContract('local', () => ({
  open: () => ({ lease: new LocalLease(), settle: async () => undefined }),
  key: (name) => name,
}));

const connect = testRedis;

function redisWorld(): SharedLeaseWorld {
  const prefix = unique('lease');
  const keys = redisKeys(prefix);
  const store = connect();
  let holders = 0;
  return {
    // A connection per holder, as separate processes have; `settle` waits behind its queue.
    open: (ttlMs) => {
      const redis = connect();
      holders += 1;
      const lease = new RedisLease(redis, keys, `holder-${holders}`, ttlMs, pino({ level: 'silent' }));
      return { lease, settle: async () => void (await redis.ping()) };
    },
    key: (name) => `${prefix}:${name}`,
    read: (key) => store.get(key),
    leader: () => store.get(keys.leader),
    expire: async () => void (await store.del(keys.leader)),
  };
}

leaseContract('redis', redisWorld, redisWorld);

import { createAdapter } from '@socket.io/redis-adapter';
import type { Config } from './config/env.ts';
import type { Logger } from './observability/logger.ts';
import type { AvailabilityStores } from './availability/store/ports.ts';
import { memoryStores } from './availability/store/memory.ts';
import { cacheTtlPolicy, redisStores } from './availability/store/redis.ts';
import { horizonOf } from './feed/translate.ts';
import { todayIn } from '@slotcast/shared';
import { MemoryEventLog, type EventLog } from './broadcast/event-log.ts';
import { RedisEventLog } from './broadcast/event-log-redis.ts';
import { MemoryKeyIndex, RedisKeyIndex, type KeyIndex } from './feed/key-index.ts';
import { MemoryResumeTokens, RedisResumeTokens, type ResumeTokens } from './feed/resume-tokens.ts';
import { redisKeys } from './cluster/keys.ts';
import { LocalLease, RedisLease, type Lease } from './cluster/lease.ts';
import { createRedis, redisAnswers } from './cluster/redis.ts';

/**
 * Everything that differs between one instance and several, chosen once, by REDIS_URL: each
 * port's memory implementation for one instance, its Redis implementation for several.
 */
export interface Services {
  mode: 'single-instance' | 'multi-instance';
  stores: AvailabilityStores;
  events: EventLog;
  lease: Lease;
  resumeTokens: ResumeTokens;
  bookingKeys: KeyIndex;
  overrideKeys: KeyIndex;
  /** The Socket.IO adapter; undefined means the in-memory default. */
  adapter?: ReturnType<typeof createAdapter>;
  /** Called when Redis comes back after an outage. */
  onRecovered(listener: () => void): void;
  answers(): Promise<boolean>;
  close(): Promise<void>;
}

export function createServices(config: Config, logger: Logger): Services {
  return config.REDIS_URL ? redisServices(config, config.REDIS_URL, logger) : memoryServices(config);
}

function memoryServices(config: Config): Services {
  const lease = new LocalLease();
  return {
    mode: 'single-instance',
    stores: memoryStores(config.CACHE_TTL_SECONDS * 1000),
    events: new MemoryEventLog(),
    lease,
    resumeTokens: new MemoryResumeTokens(lease),
    bookingKeys: new MemoryKeyIndex(),
    overrideKeys: new MemoryKeyIndex(),
    onRecovered: () => undefined,
    answers: async () => true,
    close: async () => undefined,
  };
}

function redisServices(config: Config, url: string, logger: Logger): Services {
  const keys = redisKeys(config.REDIS_KEY_PREFIX);
  const listeners: (() => void)[] = [];
  const commands = createRedis(url, logger, 'commands', () => listeners.forEach((listener) => listener()));
  // The adapter publishes without handling failures; an offline queue that never gives up keeps a Redis outage from becoming an unhandled rejection.
  const pub = createRedis(url, logger, 'adapter-pub', undefined, { maxRetriesPerRequest: null });
  // No ready check: the adapter's SUBSCRIBE may reach the wire first, and the check's INFO is then refused (ioredis#2037).
  const sub = createRedis(url, logger, 'adapter-sub', undefined, { maxRetriesPerRequest: null, enableReadyCheck: false });
  // Its own connection: a subscribed one can send no other command. It hears a released lease at once.
  const leaseSub = createRedis(url, logger, 'lease-sub', undefined, { maxRetriesPerRequest: null, enableReadyCheck: false });
  const lease = new RedisLease(commands, keys, config.INSTANCE_ID, config.LEADER_LEASE_MS, logger, leaseSub);
  const events = new RedisEventLog(commands, keys.events, logger);
  return {
    mode: 'multi-instance',
    stores: redisStores(commands, keys, cacheTtlPolicy(config.CACHE_TTL_SECONDS, () => horizonOf(todayIn(config.TIMEZONE), config.FEED_HORIZON_DAYS))),
    events,
    lease,
    resumeTokens: new RedisResumeTokens(commands, lease, keys.resumeToken),
    bookingKeys: new RedisKeyIndex(commands, keys.bookingKeys, logger),
    overrideKeys: new RedisKeyIndex(commands, keys.overrideKeys, logger),
    adapter: createAdapter(pub, sub, { key: keys.adapter }),
    onRecovered: (listener) => listeners.push(listener),
    answers: () => redisAnswers(commands),
    async close() {
      await events.close();
      for (const client of [commands, pub, sub, leaseSub]) {
        if (client.status === 'ready') await client.quit();
        else client.disconnect();
      }
    },
  };
}

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
import { CLUSTER_EVENT_BUCKETS, redisKeys } from './cluster/keys.ts';
import { LocalLease, RedisLease, type Lease } from './cluster/lease.ts';
import { createRedis, openRedis, type RedisClient, type RedisTarget } from './cluster/redis.ts';
import { redisPubSub, type PubSub } from './cluster/pubsub.ts';
import { storeRoundTrip } from './cluster/health.ts';

/**
 * Everything that differs between one instance and several, chosen once, by REDIS_URL or
 * REDIS_CLUSTER_NODES: each port's memory implementation for one instance, its Redis
 * implementation for several (the same code on one Redis and on a Redis Cluster).
 */
export interface Services {
  mode: 'single-instance' | 'multi-instance';
  stores: AvailabilityStores;
  events: EventLog;
  lease: Lease;
  resumeTokens: ResumeTokens;
  bookingKeys: KeyIndex;
  overrideKeys: KeyIndex;
  /** The Socket.IO adapter and how to broadcast through it; undefined means the in-memory default. */
  pubsub?: PubSub;
  /** Called when Redis comes back after an outage. */
  onRecovered(listener: () => void): void;
  /** A bounded round trip through what queries and broadcasts need: a write and read back in the store, a message through the adapter's pub/sub. */
  answers(): Promise<boolean>;
  close(): Promise<void>;
}

export function createServices(config: Config, logger: Logger): Services {
  if (config.REDIS_URL) return redisServices(config, { url: config.REDIS_URL }, logger);
  if (config.REDIS_CLUSTER_NODES) return redisServices(config, { cluster: config.REDIS_CLUSTER_NODES }, logger);
  return memoryServices(config);
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

/** How long each readiness round trip may take, so /readyz answers within a second. */
const READY_TIMEOUT_MS = 500;
/** How often a cluster that lost a master is asked whether it answers again. */
const RECOVERY_CHECK_MS = 250;

function redisServices(config: Config, target: RedisTarget, logger: Logger): Services {
  const cluster = 'cluster' in target;
  const keys = redisKeys(config.REDIS_KEY_PREFIX, { spread: cluster ? CLUSTER_EVENT_BUCKETS : 1 });
  const listeners: (() => void)[] = [];
  const recovered = () => listeners.forEach((listener) => listener());
  const commands = createRedis(target, logger, 'commands', recovered);
  // The adapter publishes without handling failures; an offline queue that never gives up keeps a Redis outage from becoming an unhandled rejection.
  const pub = createRedis(target, logger, 'adapter-pub', undefined, { waitForConnection: true });
  // On a cluster one master can fail alone; the sharded subscribers resubscribing is the first sign it is back (see below).
  const sub = createRedis(target, logger, 'adapter-sub', cluster ? () => void confirmRecovered() : undefined, { waitForConnection: true, subscriber: true });
  const readers: RedisClient[] = [];
  // The command connection reports Redis errors; the readers only wait on XREAD.
  const openReader = () => {
    const reader = openRedis(target, 'events-reader', { waitForConnection: true });
    readers.push(reader);
    return reader;
  };
  // Its own connection: a subscribed one can send no other command. It hears a released lease at once.
  // Plain SUBSCRIBE (every node of a cluster relays it), so not a sharded subscriber there.
  const leaseSub = createRedis(target, logger, 'lease-sub', undefined, { waitForConnection: true, subscriber: !cluster });
  const lease = new RedisLease(commands, keys, config.INSTANCE_ID, config.LEADER_LEASE_MS, logger, leaseSub);
  const events = new RedisEventLog(commands, keys.events, logger, openReader);
  const pubsub = redisPubSub({ pub, sub, channelPrefix: keys.adapter, healthPrefix: keys.adapterHealth, instance: config.INSTANCE_ID, sharded: cluster });
  const health = keys.health(config.INSTANCE_ID);
  const answers = async () => (await Promise.all([storeRoundTrip(commands, health, READY_TIMEOUT_MS), pubsub.roundTrip(READY_TIMEOUT_MS)])).every(Boolean);
  let closed = false;
  let confirming = false;
  /**
   * The subscriber group also says it is ready after a reset that still points at the failed
   * master (before its replica is promoted): sockets told to resync then would read snapshots from
   * slots nobody serves. So recovery is announced once a full round trip answers again.
   */
  async function confirmRecovered(): Promise<void> {
    if (confirming) return;
    confirming = true;
    try {
      while (!closed && !(await answers())) await new Promise((resolve) => setTimeout(resolve, RECOVERY_CHECK_MS));
      if (!closed) recovered();
    } finally {
      confirming = false;
    }
  }
  return {
    mode: 'multi-instance',
    stores: redisStores(commands, keys, cacheTtlPolicy(config.CACHE_TTL_SECONDS, () => horizonOf(todayIn(config.TIMEZONE), config.FEED_HORIZON_DAYS))),
    events,
    lease,
    resumeTokens: new RedisResumeTokens(commands, lease, keys.resumeToken),
    bookingKeys: new RedisKeyIndex(commands, keys.bookingKeys, logger),
    overrideKeys: new RedisKeyIndex(commands, keys.overrideKeys, logger),
    pubsub,
    onRecovered: (listener) => listeners.push(listener),
    answers,
    async close() {
      closed = true;
      await events.close();
      for (const client of [commands, pub, sub, leaseSub, ...readers]) {
        // The event log has closed its readers already: disconnecting one again arms ioredis's 2 s
        // destroy timer on a stream that has closed, and that timer kept a stopped hub alive.
        if (client.status === 'end') continue;
        if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
        else client.disconnect();
      }
    },
  };
}

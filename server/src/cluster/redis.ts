import calculateSlot from 'cluster-key-slot';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { Logger } from '../observability/logger.ts';

/** What every Redis-backed port is given: one Redis or a Redis Cluster, with the same commands. */
export type RedisClient = Redis | Cluster;

/** Where Redis is: one server (REDIS_URL) or the seeds of a cluster (REDIS_CLUSTER_NODES, as config/env.ts parses them). */
export type RedisTarget = { url: string } | { cluster: { host: string; port: number }[] };

export interface OpenOptions {
  /** Commands wait for a connection instead of failing fast (the adapter and blocking readers). */
  waitForConnection?: boolean;
  /** A pub/sub subscriber: no ready check, and on a cluster one sharded subscriber per master. */
  subscriber?: boolean;
}

const backoff = (attempt: number) => Math.min(100 * 2 ** Math.min(attempt, 5), 2_000);

/** A bare connection (or cluster client) with slotcast's options and no logging. */
export function openRedis(target: RedisTarget, role: string, options: OpenOptions = {}): RedisClient {
  const redisOptions: RedisOptions = {
    connectionName: `slotcast:${role}`,
    maxRetriesPerRequest: options.waitForConnection ? null : 1,
    // No ready check on a subscriber: its SUBSCRIBE may reach the wire first, and the check's INFO is then refused (ioredis#2037).
    ...(options.subscriber ? { enableReadyCheck: false } : {}),
    connectTimeout: 5_000,
  };
  if ('url' in target) return new Redis(target.url, { ...redisOptions, retryStrategy: backoff });
  const clusterOptions: ClusterOptions = {
    redisOptions,
    clusterRetryStrategy: backoff,
    // SSUBSCRIBE must reach the master that owns the channel's slot: one subscriber connection per master (ioredis#1956).
    shardedSubscribers: options.subscriber === true,
    // No auto-pipelining: with it (ioredis 5.9.3) a client kept sending a failed master's slots to
    // the old node after its replica took over and got MOVED back for good, and it routes commands
    // whose first argument is no key (XINFO STREAM, EVAL) to the wrong node. Commands sent back to
    // back without waiting are pipelined on each node's connection anyway.
    // A failover takes the cluster's node timeout and more: retry a moved or down slot for a while before failing.
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 200,
    slotsRefreshTimeout: 2_000,
  };
  return new Cluster(target.cluster, clusterOptions);
}

/**
 * A Redis connection (or cluster client) that never crashes the hub: commands fail fast while
 * Redis is away (so callers fall back or report unready) and it reconnects forever with capped backoff.
 */
export function createRedis(target: RedisTarget, logger: Logger, role: string, onRecovered?: () => void, options: OpenOptions = {}): RedisClient {
  const redis = openRedis(target, role, options);
  let state: 'starting' | 'up' | 'down' = 'starting';
  let warnedAtStart = false;
  const lost = (why: string) => {
    if (state !== 'up') return;
    state = 'down';
    logger.warn({ role, err: why }, 'redis connection lost');
  };
  redis.on('error', (error: Error) => {
    if (state === 'starting' && !warnedAtStart) logger.warn({ role, err: error.message }, 'redis is not reachable yet');
    warnedAtStart = true;
    lost(error.message);
  });
  // A short outage may reconnect without any error event; the closed connection still lost messages.
  redis.on('close', () => lost('connection closed'));
  // A cluster node failing (a master killed, its replica not yet promoted) loses what it held too.
  redis.on('node error', (error: Error, node: string) => logger.warn({ role, node, err: error.message }, 'redis cluster node error'));
  // A sharded subscriber losing its master: messages on that master's channels are lost until the
  // group has resubscribed on the new one ("subscribersReady" after the topology changed).
  redis.on('nodeError', (error: Error) => lost(error.message));
  redis.on('-node', () => lost('a cluster node went away'));
  redis.on('subscribersReady', () => {
    if (state !== 'down') return;
    state = 'up';
    logger.info({ role }, 'redis cluster subscriptions restored');
    onRecovered?.();
  });
  redis.on('ready', () => {
    const was = state;
    state = 'up';
    if (was !== 'down') return;
    logger.info({ role }, 'redis connection restored');
    onRecovered?.();
  });
  return redis;
}

/** Keys grouped by slot (a cluster refuses multi-key commands across slots); one group on a single Redis. */
export function groupBySlot<T>(redis: RedisClient, items: T[], keyOf: (item: T) => string): T[][] {
  if (!(redis instanceof Cluster)) return items.length > 0 ? [items] : [];
  const groups = new Map<number, T[]>();
  for (const item of items) {
    const slot = calculateSlot(keyOf(item));
    const group = groups.get(slot);
    if (group) group.push(item);
    else groups.set(slot, [item]);
  }
  return [...groups.values()];
}

export async function redisAnswers(redis: RedisClient): Promise<boolean> {
  if (redis.status !== 'ready') return false;
  try {
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  }
}

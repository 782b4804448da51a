import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../observability/logger.ts';

/**
 * A Redis connection that never crashes the hub: commands fail fast while Redis is away (so
 * callers fall back or report unready) and it reconnects forever with capped backoff.
 */
export function createRedis(url: string, logger: Logger, role: string, onRecovered?: () => void, options: RedisOptions = {}): Redis {
  const redis = new Redis(url, {
    connectionName: `slotcast:${role}`,
    maxRetriesPerRequest: 1,
    ...options,
    connectTimeout: 5_000,
    retryStrategy: (attempt) => Math.min(100 * 2 ** Math.min(attempt, 5), 2_000),
  });
  let state: 'starting' | 'up' | 'down' = 'starting';
  let warnedAtStart = false;
  const lost = (why: string) => {
    if (state !== 'up') return;
    state = 'down';
    logger.warn({ role, err: why }, 'redis connection lost');
  };
  redis.on('error', (error) => {
    if (state === 'starting' && !warnedAtStart) logger.warn({ role, err: error.message }, 'redis is not reachable yet');
    warnedAtStart = true;
    lost(error.message);
  });
  // A short outage may reconnect without any error event; the closed connection still lost messages.
  redis.on('close', () => lost('connection closed'));
  redis.on('ready', () => {
    const was = state;
    state = 'up';
    if (was !== 'down') return;
    logger.info({ role }, 'redis connection restored');
    onRecovered?.();
  });
  return redis;
}

export async function redisAnswers(redis: Redis): Promise<boolean> {
  if (redis.status !== 'ready') return false;
  try {
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  }
}

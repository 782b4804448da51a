import { randomUUID } from 'node:crypto';
import type { RedisClient } from './redis.ts';

/** How long a health key lives: it is rewritten by every readiness check and never read by anything else. */
const HEALTH_TTL_MS = 10_000;

/**
 * True when a value written to each key reads back within `timeoutMs`: the store takes writes
 * and answers reads on every master these keys live on (one key per slice of a cluster's slots).
 */
export async function storeRoundTrip(redis: RedisClient, keys: string[], timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
  const checked = Promise.all(
    keys.map(async (key) => {
      const nonce = randomUUID();
      await redis.set(key, nonce, 'PX', HEALTH_TTL_MS);
      return (await redis.get(key)) === nonce;
    }),
  ).then(
    (answers) => answers.every(Boolean),
    () => false,
  );
  try {
    return await Promise.race([checked, late]);
  } finally {
    clearTimeout(timer);
  }
}

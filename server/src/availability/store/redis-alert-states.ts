import type { Redis } from 'ioredis';
import { keyOf, type Key } from '@slotcast/shared';
import { STALE, type AlertState, type AlertStates } from './ports.ts';

// KEYS[1] state key; ARGV version, "<version>|<alert>|<overbooked>", ttl ms. Returns "!" when the
// held state is as new or newer (nothing written), else the held text ("" for none) after writing.
const SWAP_IF_NEWER = `
local current = redis.call('GET', KEYS[1])
if current then
  local held = tonumber(string.match(current, '^(%d+)|'))
  if held and held >= tonumber(ARGV[1]) then return '!' end
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return current or ''
`;

/** What this store needs of a client: defining its script (a single Redis and a cluster client both can). */
type ScriptHost = Pick<Redis, 'defineCommand'>;
type Scripted = ScriptHost & { slotcastSwapIfNewer(key: string, version: number, text: string, ttlMs: number): Promise<string> };

const encode = (state: AlertState) => `${state.version}|${state.alert ?? ''}|${state.overbooked ? 1 : 0}`;

function decode(text: string): AlertState {
  const [version, alert, overbooked] = text.split('|');
  return { version: Number(version), alert: (alert || null) as AlertState['alert'], overbooked: overbooked === '1' };
}

/**
 * One Redis key per (session, date) under `{prefix}:once:alert-state:`, each swapped by a script
 * that touches only that key: so it works on a Redis Cluster too. The calls go out back to back,
 * not as one pipeline, which a cluster would refuse for keys on several masters.
 */
export class RedisAlertStates implements AlertStates {
  private readonly redis: Scripted;

  constructor(
    redis: ScriptHost,
    /** The name under the deployment's prefix (`RedisKeys.once`). */
    private readonly nameOf: (name: string) => string,
  ) {
    if (!('slotcastSwapIfNewer' in redis)) redis.defineCommand('slotcastSwapIfNewer', { numberOfKeys: 1, lua: SWAP_IF_NEWER });
    this.redis = redis as Scripted;
  }

  async swap(entries: { key: Key; state: AlertState }[], ttlMs: number): Promise<(AlertState | undefined | typeof STALE)[]> {
    const replies = await Promise.all(
      entries.map(({ key, state }) => this.redis.slotcastSwapIfNewer(this.nameOf(`alert-state:${keyOf(key)}`), state.version, encode(state), ttlMs)),
    );
    return replies.map((reply) => (reply === '!' ? STALE : reply ? decode(reply) : undefined));
  }
}

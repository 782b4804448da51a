import type { Key, SessionAvailability } from '@slotcast/shared';
import type { RedisKeys } from '../../cluster/keys.ts';
import { groupBySlot, type RedisClient } from '../../cluster/redis.ts';
import { versionFloor, type AvailabilityStores, type CatalogEpoch, type OnceMarks, type SnapshotCache, type VersionCounter } from './ports.ts';
import { RedisAlertStates } from './redis-alert-states.ts';

// KEYS[1] counter; ARGV count, floor. Returns the first version of the reserved block.
const RESERVE = `
local last = redis.call('INCRBY', KEYS[1], ARGV[1])
local floor = tonumber(ARGV[2])
if last < floor + tonumber(ARGV[1]) - 1 then
  last = floor + tonumber(ARGV[1]) - 1
  redis.call('SET', KEYS[1], string.format('%.0f', last))
end
return string.format('%.0f', last - tonumber(ARGV[1]) + 1)
`;

// KEYS[1] snapshot key; ARGV version, json, ttl seconds. Stored as "<version>|<json>".
const PUT_IF_NEWER = `
local current = redis.call('GET', KEYS[1])
if current then
  local held = tonumber(string.match(current, '^(%d+)|'))
  if held and held >= tonumber(ARGV[1]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. ARGV[2], 'EX', ARGV[3])
return 1
`;

type ScriptedRedis = RedisClient & {
  slotcastReserve(counter: string, count: number, floor: number): Promise<string>;
  slotcastPutIfNewer(key: string, version: number, json: string, ttl: number): Promise<number>;
};

function scripted(redis: RedisClient): ScriptedRedis {
  if (!('slotcastReserve' in redis)) {
    redis.defineCommand('slotcastReserve', { numberOfKeys: 1, lua: RESERVE });
    redis.defineCommand('slotcastPutIfNewer', { numberOfKeys: 1, lua: PUT_IF_NEWER });
  }
  return redis as ScriptedRedis;
}

/** Parsed rows by their stored text, so a hot key is parsed once per version, not once per read. */
const PARSED_LIMIT = 20_000;

/**
 * The shared cache of several instances: one Redis key per snapshot, so on a Redis Cluster the
 * snapshots spread over every master. Reads of many keys are one MGET per slot, sent together
 * without waiting for each other (one round trip overall; one MGET on a single Redis); writes are one script call
 * per key, which touches that key only.
 */
export class RedisSnapshotCache implements SnapshotCache {
  private readonly redis: ScriptedRedis;
  // Rows handed out are shared and never modified (as with the memory cache).
  private parsed = new Map<string, SessionAvailability>();

  constructor(
    redis: RedisClient,
    private readonly keys: RedisKeys,
    /** Seconds an entry lives: CACHE_TTL_SECONDS for dates people book, less for the rest (see `cacheTtlPolicy`). */
    private readonly ttlOf: (key: Key) => number,
  ) {
    this.redis = scripted(redis);
  }

  async get(keys: Key[]): Promise<(SessionAvailability | undefined)[]> {
    if (keys.length === 0) return [];
    const names = keys.map((key) => this.keys.availability(key));
    const found = new Map<string, string | null>();
    await Promise.all(
      groupBySlot(this.redis, names, (name) => name).map(async (group) => {
        const raw = await this.redis.mget(group);
        group.forEach((name, i) => found.set(name, raw[i] ?? null));
      }),
    );
    return names.map((name) => {
      const text = found.get(name);
      return text ? this.parse(text) : undefined;
    });
  }

  private parse(text: string): SessionAvailability {
    let row = this.parsed.get(text);
    if (!row) {
      if (this.parsed.size >= PARSED_LIMIT) this.parsed = new Map();
      row = JSON.parse(text.slice(text.indexOf('|') + 1)) as SessionAvailability;
      this.parsed.set(text, row);
    }
    return row;
  }

  async put(entries: SessionAvailability[]): Promise<boolean[]> {
    if (entries.length === 0) return [];
    // Sent back to back, not as one pipeline: a cluster refuses a pipeline whose keys live on several masters.
    const written = await Promise.all(
      entries.map((entry) => this.redis.slotcastPutIfNewer(this.keys.availability(entry), entry.version, JSON.stringify(entry), this.ttlOf(entry))),
    );
    return written.map((reply) => reply === 1);
  }

  async delete(keys: Key[]): Promise<void> {
    const names = keys.map((key) => this.keys.availability(key));
    await Promise.all(groupBySlot(this.redis, names, (name) => name).map((group) => this.redis.del(group)));
  }
}

export class RedisVersionCounter implements VersionCounter {
  private readonly redis: ScriptedRedis;

  constructor(
    redis: RedisClient,
    private readonly counter: string,
  ) {
    this.redis = scripted(redis);
  }

  async reserve(count: number): Promise<number> {
    return Number(await this.redis.slotcastReserve(this.counter, count, versionFloor()));
  }
}

export class RedisCatalogEpoch implements CatalogEpoch {
  constructor(
    private readonly redis: RedisClient,
    private readonly key: string,
  ) {}

  async current(): Promise<number> {
    return Number((await this.redis.get(this.key)) ?? 0);
  }

  async bump(): Promise<number> {
    return this.redis.incr(this.key);
  }
}

export class RedisOnceMarks implements OnceMarks {
  constructor(
    private readonly redis: RedisClient,
    private readonly keyOf: (name: string) => string,
  ) {}

  async markOnce(names: string[], ttlMs: number): Promise<boolean[]> {
    if (names.length === 0) return [];
    const replies = await Promise.all(names.map((name) => this.redis.set(this.keyOf(name), '1', 'PX', ttlMs, 'NX')));
    return replies.map((reply) => reply === 'OK');
  }
}

/** Entries this far outside the feed's horizon live at most this long in the shared cache. */
const OUTSIDE_HORIZON_TTL_SECONDS = 300;

/**
 * How long a cache entry lives: CACHE_TTL_SECONDS inside the horizon the feed keeps exact
 * (yesterday to FEED_HORIZON_DAYS ahead), five minutes outside it. Whatever dates anyone asks for,
 * what the shared Redis holds stays bounded by the horizon's keys plus five minutes of the rest.
 */
export function cacheTtlPolicy(cacheTtlSeconds: number, horizon: () => { from: string; to: string }): (key: Key) => number {
  return (key) => {
    const { from, to } = horizon();
    return key.date >= from && key.date <= to ? cacheTtlSeconds : Math.min(cacheTtlSeconds, OUTSIDE_HORIZON_TTL_SECONDS);
  };
}

/** Several instances' stores, in one Redis or spread over a Redis Cluster. */
export function redisStores(redis: RedisClient, keys: RedisKeys, ttlOf: (key: Key) => number): AvailabilityStores {
  return {
    cache: new RedisSnapshotCache(redis, keys, ttlOf),
    versions: new RedisVersionCounter(redis, keys.version),
    epoch: new RedisCatalogEpoch(redis, keys.catalogEpoch),
    marks: new RedisOnceMarks(redis, keys.once),
    alertStates: new RedisAlertStates(redis, keys.once),
  };
}

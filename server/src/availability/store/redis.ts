import type { Redis } from 'ioredis';
import type { Key, SessionAvailability } from '@slotcast/shared';
import type { RedisKeys } from '../../cluster/keys.ts';
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

type ScriptedRedis = Redis & {
  slotcastReserve(counter: string, count: number, floor: number): Promise<string>;
  slotcastPutIfNewer(key: string, version: number, json: string, ttl: number): Promise<number>;
};
type ScriptedPipeline = ScriptedRedis & { exec(): Promise<[Error | null, unknown][] | null> };

function scripted(redis: Redis): ScriptedRedis {
  if (!('slotcastReserve' in redis)) {
    redis.defineCommand('slotcastReserve', { numberOfKeys: 1, lua: RESERVE });
    redis.defineCommand('slotcastPutIfNewer', { numberOfKeys: 1, lua: PUT_IF_NEWER });
  }
  return redis as ScriptedRedis;
}

/** Each pipelined reply, or the first error among them. */
function replies(results: [Error | null, unknown][] | null): unknown[] {
  return (results ?? []).map(([error, reply]) => {
    if (error) throw error;
    return reply;
  });
}

/** Parsed rows by their stored text, so a hot key is parsed once per version, not once per read. */
const PARSED_LIMIT = 20_000;

/** The shared cache of several instances; one Redis key per snapshot, so it works on Redis Cluster too. */
export class RedisSnapshotCache implements SnapshotCache {
  private readonly redis: ScriptedRedis;
  // Rows handed out are shared and never modified (as with the memory cache).
  private parsed = new Map<string, SessionAvailability>();

  constructor(
    redis: Redis,
    private readonly keys: RedisKeys,
    /** Seconds an entry lives: CACHE_TTL_SECONDS for dates people book, less for the rest (see `cacheTtlPolicy`). */
    private readonly ttlOf: (key: Key) => number,
  ) {
    this.redis = scripted(redis);
  }

  async get(keys: Key[]): Promise<(SessionAvailability | undefined)[]> {
    if (keys.length === 0) return [];
    const raw = await this.redis.mget(keys.map((key) => this.keys.availability(key)));
    return raw.map((text) => (text ? this.parse(text) : undefined));
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
    const pipeline = this.redis.pipeline() as unknown as ScriptedPipeline;
    for (const entry of entries) {
      void pipeline.slotcastPutIfNewer(this.keys.availability(entry), entry.version, JSON.stringify(entry), this.ttlOf(entry));
    }
    return replies(await pipeline.exec()).map((written) => written === 1);
  }

  async delete(keys: Key[]): Promise<void> {
    if (keys.length > 0) await this.redis.del(keys.map((key) => this.keys.availability(key)));
  }
}

export class RedisVersionCounter implements VersionCounter {
  private readonly redis: ScriptedRedis;

  constructor(
    redis: Redis,
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
    private readonly redis: Redis,
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
    private readonly redis: Redis,
    private readonly keyOf: (name: string) => string,
  ) {}

  async markOnce(names: string[], ttlMs: number): Promise<boolean[]> {
    if (names.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const name of names) pipeline.set(this.keyOf(name), '1', 'PX', ttlMs, 'NX');
    return replies(await pipeline.exec()).map((reply) => reply === 'OK');
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

/** Several instances' stores, all in one Redis. */
export function redisStores(redis: Redis, keys: RedisKeys, ttlOf: (key: Key) => number): AvailabilityStores {
  return {
    cache: new RedisSnapshotCache(redis, keys, ttlOf),
    versions: new RedisVersionCounter(redis, keys.version),
    epoch: new RedisCatalogEpoch(redis, keys.catalogEpoch),
    marks: new RedisOnceMarks(redis, keys.once),
    alertStates: new RedisAlertStates(redis, keys.once),
  };
}

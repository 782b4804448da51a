import type { Redis } from 'ioredis';
import type { SessionAvailability } from '@slotcast/shared';
import type { RedisKeys } from '../cluster/keys.ts';
import { versionFloor, type AvailabilityStore } from './store.ts';

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

function scripted(redis: Redis): ScriptedRedis {
  if (!('slotcastReserve' in redis)) {
    redis.defineCommand('slotcastReserve', { numberOfKeys: 1, lua: RESERVE });
    redis.defineCommand('slotcastPutIfNewer', { numberOfKeys: 1, lua: PUT_IF_NEWER });
  }
  return redis as ScriptedRedis;
}

/** Parsed rows by their stored text, so a hot key is parsed once per version, not once per read. */
const PARSED_LIMIT = 20_000;

/** The shared cache of several instances; one key per snapshot, so it works on Redis Cluster too. */
export class RedisStore implements AvailabilityStore {
  private readonly redis: ScriptedRedis;
  // Rows handed out are shared and never modified (as with MemoryStore).
  private parsed = new Map<string, SessionAvailability>();

  constructor(
    redis: Redis,
    private readonly keys: RedisKeys,
    private readonly ttlSeconds: number,
  ) {
    this.redis = scripted(redis);
  }

  private keyOf(key: string): string {
    const [sessionId, date] = key.split(':') as [string, string];
    return this.keys.availability(sessionId, date);
  }

  async reserveVersions(count: number): Promise<number> {
    return Number(await this.redis.slotcastReserve(this.keys.version, count, versionFloor()));
  }

  async get(keys: string[]): Promise<(SessionAvailability | undefined)[]> {
    if (keys.length === 0) return [];
    const raw = await this.redis.mget(keys.map((key) => this.keyOf(key)));
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
    const pipeline = this.redis.pipeline() as unknown as ScriptedRedis & { exec(): Promise<[Error | null, unknown][] | null> };
    for (const entry of entries) {
      void pipeline.slotcastPutIfNewer(this.keys.availability(entry.sessionId, entry.date), entry.version, JSON.stringify(entry), this.ttlSeconds);
    }
    const results = (await pipeline.exec()) ?? [];
    return results.map(([error, written]) => {
      if (error) throw error;
      return written === 1;
    });
  }

  async delete(keys: string[]): Promise<void> {
    if (keys.length > 0) await this.redis.del(keys.map((key) => this.keyOf(key)));
  }

  async catalogEpoch(): Promise<number> {
    return Number((await this.redis.get(this.keys.catalogEpoch)) ?? 0);
  }

  async bumpCatalogEpoch(): Promise<number> {
    return this.redis.incr(this.keys.catalogEpoch);
  }

  async markOnce(name: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.set(this.keys.once(name), '1', 'PX', ttlMs, 'NX')) === 'OK';
  }
}

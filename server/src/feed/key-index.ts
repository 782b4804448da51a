import type { Redis } from 'ioredis';

/**
 * The last `sessionId:date` seen for each booking (or override) id. Change events without
 * pre-images carry only the new document, and deletes only the id; this index supplies the old key.
 */
export interface KeyIndex {
  get(ids: string[]): Promise<(string | undefined)[]>;
  set(entries: [id: string, key: string][]): Promise<void>;
  delete(ids: string[]): Promise<void>;
}

export class MemoryKeyIndex implements KeyIndex {
  private readonly keys = new Map<string, string>();

  async get(ids: string[]): Promise<(string | undefined)[]> {
    return ids.map((id) => this.keys.get(id));
  }

  async set(entries: [string, string][]): Promise<void> {
    for (const [id, key] of entries) this.keys.set(id, key);
  }

  async delete(ids: string[]): Promise<void> {
    for (const id of ids) this.keys.delete(id);
  }
}

/** One Redis hash, shared by whichever instance leads. */
export class RedisKeyIndex implements KeyIndex {
  constructor(
    private readonly redis: Redis,
    private readonly hash: string,
  ) {}

  async get(ids: string[]): Promise<(string | undefined)[]> {
    if (ids.length === 0) return [];
    return (await this.redis.hmget(this.hash, ...ids)).map((key) => key ?? undefined);
  }

  async set(entries: [string, string][]): Promise<void> {
    for (let i = 0; i < entries.length; i += 1000) {
      await this.redis.hset(this.hash, Object.fromEntries(entries.slice(i, i + 1000)));
    }
  }

  async delete(ids: string[]): Promise<void> {
    if (ids.length > 0) await this.redis.hdel(this.hash, ...ids);
  }
}

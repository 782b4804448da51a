import { keyOf, parseKey, type Key } from '@slotcast/shared';
import type { RedisClient } from '../cluster/redis.ts';
import type { Logger } from '../observability/logger.ts';

/**
 * The last key seen for each booking (or override) id. Change events without pre-images carry
 * only the new document, and deletes only the id; this index supplies the old key.
 */
export interface KeyIndex {
  /** The key held for each id, in order; undefined where none is held. Ids come back lower-cased (keyOf's form). */
  get(ids: string[]): Promise<(Key | undefined)[]>;
  set(entries: [id: string, key: Key][]): Promise<void>;
  delete(ids: string[]): Promise<void>;
}

/** The form a key is held in, whichever store holds it: the one `keyOf` spells. */
const normal = (key: Key): Key => ({ sessionId: key.sessionId.toLowerCase(), date: key.date });

export class MemoryKeyIndex implements KeyIndex {
  private readonly keys = new Map<string, Key>();

  async get(ids: string[]): Promise<(Key | undefined)[]> {
    return ids.map((id) => this.keys.get(id));
  }

  async set(entries: [string, Key][]): Promise<void> {
    for (const [id, key] of entries) this.keys.set(id, normal(key));
  }

  async delete(ids: string[]): Promise<void> {
    for (const id of ids) this.keys.delete(id);
  }
}

/** Redis takes this many fields per command, so a rebuild of many thousand ids is not one huge request. */
const BATCH = 1000;

/** One Redis hash (id → `keyOf(key)`), shared by whichever instance leads; one key, so one slot on a cluster. */
export class RedisKeyIndex implements KeyIndex {
  /** Stored values that were no key (written by hand or by another program): read as unknown. */
  unreadable = 0;

  constructor(
    private readonly redis: RedisClient,
    private readonly hash: string,
    private readonly logger?: Logger,
  ) {}

  async get(ids: string[]): Promise<(Key | undefined)[]> {
    const keys: (Key | undefined)[] = [];
    for (let i = 0; i < ids.length; i += BATCH) {
      const batch = ids.slice(i, i + BATCH);
      const stored = await this.redis.hmget(this.hash, ...batch);
      stored.forEach((text, j) => keys.push(text === null ? undefined : this.read(batch[j]!, text)));
    }
    return keys;
  }

  /** An unreadable value counts as unknown: the caller then asks for a resync rather than recompute a made-up key. */
  private read(id: string, text: string): Key | undefined {
    const key = parseKey(text);
    if (key) return key;
    this.unreadable += 1;
    this.logger?.warn({ hash: this.hash, id, value: text.slice(0, 80) }, 'key index holds a value that is no key; treating it as unknown');
    return undefined;
  }

  async set(entries: [string, Key][]): Promise<void> {
    for (let i = 0; i < entries.length; i += BATCH) {
      await this.redis.hset(this.hash, Object.fromEntries(entries.slice(i, i + BATCH).map(([id, key]) => [id, keyOf(key)])));
    }
  }

  async delete(ids: string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += BATCH) await this.redis.hdel(this.hash, ...ids.slice(i, i + BATCH));
  }
}

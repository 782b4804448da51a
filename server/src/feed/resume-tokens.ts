import type { RedisClient } from '../cluster/redis.ts';
import { mongo } from 'mongoose';
import type { Lease } from '../cluster/lease.ts';

/** Where each collection's resume token is kept; only the current leader's epoch may store one. */
export interface ResumeTokens {
  load(collection: string): Promise<unknown>;
  /** False when the store was refused (this process is no longer the leader). */
  save(collection: string, token: unknown): Promise<boolean>;
  /** Forgets the token (its history is lost); false when refused, as `save`: a former leader must not wipe its successor's. */
  clear(collection: string): Promise<boolean>;
}

const { EJSON } = mongo.BSON;

export class MemoryResumeTokens implements ResumeTokens {
  private readonly tokens = new Map<string, string>();

  constructor(private readonly lease: Lease) {}

  async load(collection: string): Promise<unknown> {
    const raw = this.tokens.get(collection);
    return raw ? EJSON.parse(raw) : undefined;
  }

  async save(collection: string, token: unknown): Promise<boolean> {
    if (!this.lease.isHeld()) return false;
    this.tokens.set(collection, EJSON.stringify(token as mongo.Document));
    return true;
  }

  async clear(collection: string): Promise<boolean> {
    if (!this.lease.isHeld()) return false;
    this.tokens.delete(collection);
    return true;
  }
}

/** Keyed by `RedisKeys.resumeToken`: beside the leader key (one hash tag), so the fenced write is one script on a cluster too. */
export class RedisResumeTokens implements ResumeTokens {
  constructor(
    private readonly redis: RedisClient,
    private readonly lease: Lease,
    private readonly keyOf: (collection: string) => string,
  ) {}

  async load(collection: string): Promise<unknown> {
    const raw = await this.redis.get(this.keyOf(collection));
    return raw ? EJSON.parse(raw) : undefined;
  }

  async save(collection: string, token: unknown): Promise<boolean> {
    return this.lease.fencedSet(this.keyOf(collection), EJSON.stringify(token as mongo.Document));
  }

  /** An empty value, not a DEL: the fenced script only sets, and `load` reads empty as none. */
  async clear(collection: string): Promise<boolean> {
    return this.lease.fencedSet(this.keyOf(collection), '');
  }
}

import type { Logger } from '../observability/logger.ts';
import type { RedisKeys } from './keys.ts';
import type { RedisClient } from './redis.ts';

/**
 * Who consumes the change feed. Exactly one holder at a time; each acquisition gets a higher
 * fencing epoch, and writes that only the leader may make check it in Redis.
 */
export interface Lease {
  /** Begins trying to hold the lease; `onAcquired`/`onLost` are called on every change. */
  start(handlers: { onAcquired(epoch: number): void; onLost(reason: string): void }): void;
  /** True only while a renewal was confirmed less than a TTL ago (by this process's monotonic clock). */
  isHeld(): boolean;
  readonly epoch: number;
  /** Sets `key` only if this holder's epoch is still current; false when fenced off. `key` is one of `RedisKeys.fenced`'s (the leader's slot on a cluster). */
  fencedSet(key: string, value: string): Promise<boolean>;
  /**
   * Lets go of a held lease because this holder cannot do the leader's work (its change feed is
   * stalled): `onLost` is called, and another instance may take over. Redis: the lease is released
   * and this instance does not try to take it again for two TTLs, so another one gets it first.
   * Single instance: there is no other, so the feed is restarted (`onLost`, then `onAcquired`).
   */
  giveUp(reason: string): Promise<void>;
  /** Stops renewing and releases the lease if held. */
  stop(): Promise<void>;
}

/** Single-instance mode: this process is always the leader. */
export class LocalLease implements Lease {
  readonly epoch = 1;
  private running = false;
  private handlers: { onAcquired(epoch: number): void; onLost(reason: string): void } | undefined;

  start(handlers: { onAcquired(epoch: number): void; onLost(reason: string): void }): void {
    this.running = true;
    this.handlers = handlers;
    handlers.onAcquired(this.epoch);
  }

  async giveUp(reason: string): Promise<void> {
    if (!this.running) return;
    this.handlers?.onLost(reason);
    this.handlers?.onAcquired(this.epoch);
  }

  isHeld(): boolean {
    return this.running;
  }

  /** Nothing is stored here: the memory stores keep their own values and only ask `isHeld`. */
  async fencedSet(_key: string, _value: string): Promise<boolean> {
    return this.running;
  }

  /** Says so to `onLost`, as the Redis lease does: every change of holding is announced. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.handlers?.onLost('stopping');
  }
}

// KEYS leader, epochCounter; ARGV holder, ttlMs. Returns the new epoch, or 0 when someone holds it.
const ACQUIRE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local epoch = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. epoch, 'PX', ARGV[2])
return epoch
`;
// KEYS leader; ARGV holder|epoch, ttlMs.
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`;
// KEYS leader, target; ARGV holder|epoch, value.
const FENCED_SET = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2])
return 1
`;
// KEYS leader; ARGV holder|epoch.
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

const now = () => performance.now();

export class RedisLease implements Lease {
  epoch = 0;
  private confirmedAt = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  private handlers: { onAcquired(epoch: number): void; onLost(reason: string): void } | undefined;
  private stopped = false;
  /** After giving up: no acquisition before this (monotonic ms), so another instance takes over. */
  private holdOffUntil = -Infinity;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    private readonly holder: string,
    private readonly ttlMs: number,
    private readonly logger: Logger,
  ) {}

  private get token(): string {
    return `${this.holder}|${this.epoch}`;
  }

  start(handlers: { onAcquired(epoch: number): void; onLost(reason: string): void }): void {
    this.handlers = handlers;
    void this.tick();
  }

  isHeld(): boolean {
    return this.epoch > 0 && now() - this.confirmedAt < this.ttlMs;
  }

  /** Runs every third of a TTL: acquire when free, renew when held, step down when renewal is not confirmed. */
  private async tick(): Promise<void> {
    if (this.stopped) return;
    const startedAt = now();
    try {
      if (this.epoch > 0) {
        const renewed = await this.redis.eval(RENEW, 1, this.keys.leader, this.token, this.ttlMs);
        if (renewed === 1) this.confirmedAt = startedAt;
        else this.lose('another instance holds the lease');
      } else if (startedAt >= this.holdOffUntil) {
        const epoch = Number(await this.redis.eval(ACQUIRE, 2, this.keys.leader, this.keys.leaderEpoch, this.holder, this.ttlMs));
        if (epoch > 0 && !this.stopped) {
          this.epoch = epoch;
          this.confirmedAt = startedAt;
          this.logger.info({ epoch }, 'leader lease acquired');
          this.handlers?.onAcquired(epoch);
        }
      }
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, 'lease renewal failed');
    }
    if (this.epoch > 0 && !this.isHeld()) this.lose('renewal not confirmed within the TTL');
    if (!this.stopped) this.timer = setTimeout(() => void this.tick(), Math.max(50, Math.floor(this.ttlMs / 3)));
  }

  private lose(reason: string): void {
    if (this.epoch === 0) return;
    this.logger.warn({ epoch: this.epoch, reason }, 'leader lease lost');
    this.epoch = 0;
    this.confirmedAt = -Infinity;
    this.handlers?.onLost(reason);
  }

  async giveUp(reason: string): Promise<void> {
    if (this.epoch === 0) return;
    const token = this.token;
    this.holdOffUntil = now() + 2 * this.ttlMs;
    this.lose(`gave up: ${reason}`);
    await this.release(token);
  }

  private async release(token: string): Promise<void> {
    await this.redis.eval(RELEASE, 1, this.keys.leader, token).catch((error: unknown) => {
      this.logger.warn({ err: (error as Error).message }, 'could not release the lease; it expires by itself');
    });
  }

  async fencedSet(key: string, value: string): Promise<boolean> {
    if (!this.isHeld()) return false;
    return (await this.redis.eval(FENCED_SET, 2, this.keys.leader, key, this.token, value)) === 1;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.epoch > 0) {
      const token = this.token;
      this.lose('stopping');
      await this.release(token);
    }
  }
}

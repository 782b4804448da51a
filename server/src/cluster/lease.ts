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

// KEYS leader, epochCounter; ARGV holder, ttlMs. Returns the new epoch, or minus the milliseconds
// the current holding has left (at least 1; a holding without expiry counts as a full TTL).
const ACQUIRE = `
local left = redis.call('PTTL', KEYS[1])
if left >= 0 then return -math.max(left, 1) end
if left == -1 then return -tonumber(ARGV[2]) end
local epoch = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. epoch, 'PX', ARGV[2])
return epoch
`;
// KEYS leader, epochCounter; ARGV holder|epoch, ttlMs, epoch. Also takes back a holding that
// expired while nobody acquired after it (the epoch counter has not moved): a renewal sent late
// by a busy event loop keeps the lease when no other instance took it meanwhile.
const RENEW = `
local held = redis.call('GET', KEYS[1])
if held == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if held == false and redis.call('GET', KEYS[2]) == ARGV[3] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
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

/** A follower's next try comes this long after the holding it was refused by would expire. */
const AFTER_EXPIRY_MS = 5;

/**
 * Renewed and tried every third of the TTL. A follower refused by a holding that expires sooner
 * tries again right after that expiry, so a dead leader is replaced as its lease runs out, not up
 * to a third of a TTL later. With `subscriber`, a holder that lets go (stop, give-up) publishes
 * on `keys.leaderFree` and followers try at once: a graceful stop hands over within a round trip.
 */
export class RedisLease implements Lease {
  epoch = 0;
  private confirmedAt = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  private handlers: { onAcquired(epoch: number): void; onLost(reason: string): void } | undefined;
  private stopped = false;
  /** After giving up: no acquisition before this (monotonic ms), so another instance takes over. */
  private holdOffUntil = -Infinity;
  /** A tick is awaiting Redis; a wake-up meanwhile makes the next one come at once. */
  private ticking = false;
  private wakeAgain = false;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    private readonly holder: string,
    private readonly ttlMs: number,
    private readonly logger: Logger,
    private readonly subscriber?: RedisClient,
  ) {}

  private get everyMs(): number {
    return Math.max(50, Math.floor(this.ttlMs / 3));
  }

  private get token(): string {
    return `${this.holder}|${this.epoch}`;
  }

  start(handlers: { onAcquired(epoch: number): void; onLost(reason: string): void }): void {
    this.handlers = handlers;
    this.listenForFree();
    void this.tick();
  }

  isHeld(): boolean {
    return this.epoch > 0 && now() - this.confirmedAt < this.ttlMs;
  }

  /** Acquire when free, renew when held, step down when renewal is not confirmed; then schedules the next tick. */
  private async tick(): Promise<void> {
    if (this.stopped) return;
    this.ticking = true;
    const startedAt = now();
    let nextInMs = this.everyMs;
    try {
      if (this.epoch > 0) {
        const renewed = await this.redis.eval(RENEW, 2, this.keys.leader, this.keys.leaderEpoch, this.token, this.ttlMs, this.epoch);
        if (renewed === 1) {
          // Answered later than a TTL after it was sent (a blocked event loop): still ours, but
          // isHeld() stays false until a renewal is confirmed in time, so renew again at once.
          this.confirmedAt = startedAt;
          if (!this.isHeld()) nextInMs = 0;
        } else this.lose('another instance holds the lease');
      } else if (startedAt >= this.holdOffUntil) {
        const answer = Number(await this.redis.eval(ACQUIRE, 2, this.keys.leader, this.keys.leaderEpoch, this.holder, this.ttlMs));
        if (answer > 0 && !this.stopped) {
          this.epoch = answer;
          this.confirmedAt = startedAt;
          this.logger.info({ epoch: answer }, 'leader lease acquired');
          this.handlers?.onAcquired(answer);
        } else if (answer < 0) nextInMs = Math.min(nextInMs, -answer + AFTER_EXPIRY_MS);
      } else nextInMs = Math.min(nextInMs, this.holdOffUntil - startedAt);
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, 'lease renewal failed');
    }
    // No answer (Redis away, a timeout) for a TTL: deposed. A late "yes" is not a loss (above).
    if (this.epoch > 0 && !this.isHeld() && nextInMs !== 0) this.lose('renewal not confirmed within the TTL');
    this.ticking = false;
    if (this.wakeAgain && this.epoch === 0) nextInMs = 0;
    this.wakeAgain = false;
    if (!this.stopped) this.timer = setTimeout(() => void this.tick(), Math.max(0, nextInMs));
  }

  /** A follower told that the lease is free tries now instead of at its next tick. */
  private listenForFree(): void {
    if (!this.subscriber) return;
    this.subscriber.on('message', (channel: string) => {
      if (channel !== this.keys.leaderFree || this.stopped || this.epoch > 0 || now() < this.holdOffUntil) return;
      if (this.ticking) {
        this.wakeAgain = true;
        return;
      }
      clearTimeout(this.timer);
      void this.tick();
    });
    this.subscriber.subscribe(this.keys.leaderFree).catch((error: unknown) => {
      this.logger.warn({ err: (error as Error).message }, 'could not subscribe to lease releases; followers take over at their next try');
    });
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

  /** Deletes the holding if still ours and says so on `keys.leaderFree`, so a follower takes over now. */
  private async release(token: string): Promise<void> {
    try {
      if ((await this.redis.eval(RELEASE, 1, this.keys.leader, token)) === 1) await this.redis.publish(this.keys.leaderFree, this.holder);
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, 'could not release the lease; it expires by itself');
    }
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

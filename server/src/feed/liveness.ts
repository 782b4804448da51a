import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { WatcherProgress } from './watcher.ts';

/**
 * A leader whose change feed has made no progress for this long, while it had work outstanding
 * (events not yet published, or a change stream that has not answered: a healthy one answers at
 * least every maxAwaitTimeMS, 500 ms), counts as stalled: it logs it and `healthy()` is false.
 */
export const STALLED_AFTER_MS = 5_000;
/**
 * Stalled this long, the leader gives up its lease so another instance takes over: that one
 * resumes from the stored tokens, so nothing the stalled leader did not publish is lost. Twice
 * STALLED_AFTER_MS, so that a stall is reported before the handover it causes.
 */
export const GIVE_UP_AFTER_MS = 10_000;
/** How often the leader measures its feed (and updates the gauges). */
const CHECK_EVERY_MS = 1_000;

export interface FeedProgress {
  stalledMs: number;
  lagSeconds: number;
  watchers: WatcherProgress[];
}

/**
 * Measures the leader's feed every second: the slowest watcher decides. Exports it as
 * `slotcast_feed_stalled_seconds` and `slotcast_feed_lag_seconds`, logs the start and the end of a
 * stall, and calls `giveUp` once a stall reaches GIVE_UP_AFTER_MS.
 */
export class FeedLiveness {
  private timer: NodeJS.Timeout | undefined;
  private stalledSince: number | undefined;
  private gaveUp = false;

  constructor(
    private readonly source: () => WatcherProgress[],
    private readonly giveUp: (reason: string) => void,
    private readonly logger: Logger,
    private readonly metrics: Metrics | undefined,
  ) {}

  /** Begins measuring (on taking the lease). */
  start(): void {
    this.stop();
    this.timer = setInterval(() => this.check(), CHECK_EVERY_MS);
    this.timer.unref();
  }

  /** Stops measuring (on losing the lease or stopping): a follower has no feed to be stuck. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.stalledSince = undefined;
    this.gaveUp = false;
    this.metrics?.feedStalledSeconds.set(0);
    this.metrics?.feedLagSeconds.set(0);
  }

  /** The feed now: the longest stall and the largest lag of its watchers. */
  progress(): FeedProgress {
    const watchers = this.timer ? this.source() : [];
    return {
      stalledMs: Math.max(0, ...watchers.map((watcher) => watcher.stalledMs)),
      lagSeconds: Math.max(0, ...watchers.map((watcher) => watcher.lagSeconds)),
      watchers,
    };
  }

  /** False while measuring and the feed has been stalled for STALLED_AFTER_MS or more. */
  healthy(): boolean {
    return this.progress().stalledMs < STALLED_AFTER_MS;
  }

  private check(): void {
    const { stalledMs, lagSeconds, watchers } = this.progress();
    this.metrics?.feedStalledSeconds.set(Math.round(stalledMs) / 1000);
    this.metrics?.feedLagSeconds.set(lagSeconds);
    const detail = watchers.filter((watcher) => watcher.stalledMs >= STALLED_AFTER_MS).map((watcher) => watcher.collection);
    if (stalledMs >= STALLED_AFTER_MS && this.stalledSince === undefined) {
      this.stalledSince = performance.now() - stalledMs;
      this.logger.warn({ stalledSeconds: Math.round(stalledMs / 1000), lagSeconds, collections: detail }, 'change feed stalled');
    } else if (stalledMs < STALLED_AFTER_MS && this.stalledSince !== undefined) {
      this.logger.info({ stalledSeconds: Math.round((performance.now() - this.stalledSince) / 1000) }, 'change feed is making progress again');
      this.stalledSince = undefined;
    }
    if (stalledMs >= GIVE_UP_AFTER_MS && !this.gaveUp) {
      this.gaveUp = true;
      this.metrics?.feedGiveUps.inc();
      this.logger.error(
        { stalledSeconds: Math.round(stalledMs / 1000), collections: detail },
        `change feed made no progress for ${GIVE_UP_AFTER_MS / 1000} s; giving up the lease so another instance takes over`,
      );
      this.giveUp(`feed stalled for ${Math.round(stalledMs / 1000)} s`);
    }
  }
}

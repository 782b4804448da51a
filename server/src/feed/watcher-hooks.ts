import type { FeedEvent } from './translate.ts';

export interface WatcherHooks {
  /** Handles events in order; the token is stored only after this resolves. */
  handle(events: FeedEvent[]): Promise<void>;
  /** The stored token could not be used, or the stream was invalidated: the caller resyncs. */
  lostHistory(reason: string): void;
  /** The deployment cannot watch at all. */
  unsupported(error: Error): void;
}

/** How one watcher is doing, for the feed's liveness check (feed/liveness.ts). */
export interface WatcherProgress {
  collection: string;
  /** Milliseconds without progress while something is outstanding (0 when all is handled and the stream answers). */
  stalledMs: number;
  /** Seconds between now and MongoDB's clusterTime of the oldest event received but not yet handled (0 when none). */
  lagSeconds: number;
}

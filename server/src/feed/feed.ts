import { todayIn, type IsoDate, type Key } from '@slotcast/shared';
import type { AvailabilityWrites } from '../availability/writes.ts';
import type { Lease } from '../cluster/lease.ts';
import type { Models } from '../db/models.ts';
import type { MappedDocuments } from '../schema/collections.ts';
import type { Raw, Read } from '../schema/documents.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { Coalescer, type Flush } from './coalescer.ts';
import type { KeyIndex } from './key-index.ts';
import { Poller } from './poller.ts';
import type { ResumeTokens } from './resume-tokens.ts';
import { horizonOf, translateBookings, translateHolds, translateOverrides, translateSessions, translateWaitlist, type WaitlistLookups, type FeedEvent, type Translation } from './translate.ts';
import { CollectionWatcher } from './watcher.ts';
import { FeedLiveness, type FeedProgress } from './liveness.ts';
import { within } from '../within.ts';

export interface ChangeFeedOptions {
  models: Models;
  /** Sessions, bookings and overrides under the schema in force. */
  documents: MappedDocuments;
  writes: AvailabilityWrites;
  /** The guard: after a change, its keys' free places are recounted from MongoDB and offered to the waitlist first. */
  guard?: { placesBack(keys: Key[]): Promise<void>; resynced(scope: { from: IsoDate; to: IsoDate }): Promise<void> } & WaitlistLookups;
  lease: Lease;
  resumeTokens: ResumeTokens;
  bookingKeys: KeyIndex;
  overrideKeys: KeyIndex;
  coalesceMs: number;
  horizonDays: number;
  timeZone: string;
  mode: 'auto' | 'stream' | 'poll';
  pollIntervalMs: number;
  logger: Logger;
  metrics?: Metrics;
}

/** Resyncs (a recompute of the whole horizon) run at most this often; one more is queued behind. */
const RESYNC_MIN_INTERVAL_MS = 10_000;
/** Stepping down or stopping waits at most this long, in all, for batches and a resync (a MongoDB that does not answer holds them). */
const STOP_WAIT_MS = 2_000;

/**
 * Turns every write to the three collections into recomputes, on the one instance that holds the
 * lease. On taking the lease it resumes each stream from its stored token, rebuilds the key
 * indexes and resyncs the horizon, so writes made while no leader ran are not lost.
 */
export class ChangeFeed {
  private watchers: CollectionWatcher[] = [];
  private poller: Poller | undefined;
  private coalescer: Coalescer;
  private mode: 'stream' | 'poll';
  private generation = 0;
  private lastResync = -Infinity;
  private resyncTimer: NodeJS.Timeout | undefined;
  /** Set by stop(): a resync failing afterwards (MongoDB closed under it) must not schedule another. */
  private stopped = false;
  private resyncing: Promise<void> = Promise.resolve();
  private announceAllNext = false;
  private readonly liveness: FeedLiveness;

  private readonly translate = {
    bookings: (events: FeedEvent[]) => translateBookings(events, this.options.bookingKeys, this.options.documents.mapping),
    overrides: (events: FeedEvent[]) => translateOverrides(events, this.options.overrideKeys, this.options.documents.mapping),
    sessions: async (events: FeedEvent[]) => translateSessions(events, this.horizon()),
    holds: (events: FeedEvent[]) => translateHolds(events, this.options.guard),
    waitlist: async (events: FeedEvent[]): Promise<Translation> => (this.options.guard ? translateWaitlist(events, this.options.guard) : { work: [] }),
  };

  constructor(private readonly options: ChangeFeedOptions) {
    this.mode = options.mode === 'poll' ? 'poll' : 'stream';
    this.coalescer = new Coalescer(options.coalesceMs, this.flush);
    this.liveness = new FeedLiveness(
      () => this.watchers.map((watcher) => watcher.progress()),
      (reason) => void this.options.lease.giveUp(reason),
      options.logger,
      options.metrics,
    );
  }

  start(): void {
    this.options.lease.start({
      onAcquired: () => {
        this.options.metrics?.leader.set(1);
        this.lead().catch((error: unknown) => {
          // MongoDB away while taking over: whatever started keeps running, and a resync covers the rest.
          this.options.logger.error({ err: error }, 'taking over the change feed failed; resyncing');
          this.requestResync('take-over failed');
        });
      },
      onLost: () => {
        this.options.metrics?.leader.set(0);
        void this.stepDown();
      },
    });
  }

  /**
   * For /readyz: false while this instance leads and its feed has been stalled for
   * STALLED_AFTER_MS (5 s) or more; followers are healthy. A stall of GIVE_UP_AFTER_MS (10 s)
   * also gives up the lease (feed/liveness.ts).
   */
  healthy(): boolean {
    return !this.options.lease.isHeld() || this.liveness.healthy();
  }

  /** The leader's feed now (all zero on a follower): longest stall, largest lag, per watcher. */
  progress(): FeedProgress {
    return this.liveness.progress();
  }

  private readonly flush: Flush = async (groups) => {
    const { writes, lease, metrics } = this.options;
    for (const { reason, keys, owners } of groups) {
      // A paused or partitioned former leader must neither publish nor store a token.
      if (!lease.isHeld()) throw new Error('not the leader: dropping the batch for the next leader to replay');
      await writes.recompute(keys, reason, owners, { mayPublish: () => lease.isHeld() });
      await this.options.guard?.placesBack(keys);
      metrics?.feedRecomputes.inc({ reason }, keys.length);
    }
  };

  private async lead(): Promise<void> {
    const generation = ++this.generation;
    let resumedAll = false;
    const { logger, models } = this.options;
    const { collections } = this.options.documents;
    if (this.mode === 'stream') {
      const watchers = [
        new CollectionWatcher(collections.bookings, this.options.resumeTokens, this.hooks(this.translate.bookings), logger),
        new CollectionWatcher(collections.sessions, this.options.resumeTokens, this.hooks(this.translate.sessions), logger),
        new CollectionWatcher(collections.overrides, this.options.resumeTokens, this.hooks(this.translate.overrides), logger),
        new CollectionWatcher(models.Hold.collection, this.options.resumeTokens, this.hooks(this.translate.holds), logger),
        new CollectionWatcher(models.Waitlist.collection, this.options.resumeTokens, this.hooks(this.translate.waitlist), logger),
      ];
      this.watchers = watchers;
      this.liveness.start();
      // This instance's own list: losing the lease meanwhile empties `this.watchers` (stepDown).
      const started = await Promise.all(watchers.map((watcher) => watcher.start()));
      logger.info({ resumed: started.map((s, i) => `${watchers[i]!.name}:${s.resumed}`) }, 'change feed started');
      resumedAll = started.every((s) => s.resumed);
    } else {
      await this.startPoller();
    }
    if (generation !== this.generation) return;
    await this.loadIndexes();
    // Without a stored position, writes made before now may never have been published: say everything once.
    this.requestResync('leader acquired', { announceAll: !resumedAll });
  }

  private hooks(translateBatch: (events: FeedEvent[]) => Promise<Translation>) {
    return {
      handle: async (events: FeedEvent[]) => {
        const { work, needsResync } = await translateBatch(events);
        if (needsResync) this.requestResync(needsResync, { announceAll: true });
        await this.coalescer.add(work);
      },
      lostHistory: (reason: string) => this.requestResync(reason, { announceAll: true }),
      unsupported: (error: Error) => void this.fallBackToPolling(error),
    };
  }

  private async fallBackToPolling(error: Error): Promise<void> {
    if (this.mode === 'poll') return;
    if (this.options.mode === 'stream') {
      this.options.logger.error({ err: error.message }, 'change streams are not available and FEED_MODE=stream');
      return;
    }
    this.options.logger.warn(
      { err: error.message },
      'change streams are not available (standalone mongod?): polling bookings.updatedAt instead; see docs/deployment.md',
    );
    this.mode = 'poll';
    const watchers = this.watchers;
    this.watchers = [];
    await Promise.all(watchers.map((watcher) => watcher.stop()));
    if (this.options.lease.isHeld()) await this.startPoller();
  }

  private async startPoller(): Promise<void> {
    const run = (translateBatch: (events: FeedEvent[]) => Promise<Translation>) => this.hooks(translateBatch).handle;
    this.poller = new Poller(
      this.options.models,
      this.options.documents,
      {
        bookings: run(this.translate.bookings),
        holds: run(this.translate.holds),
        waitlist: run(this.translate.waitlist),
        sessions: run(this.translate.sessions),
        overrides: run(this.translate.overrides),
        resync: (reason) => this.requestResync(reason),
      },
      this.options.pollIntervalMs,
      this.options.logger,
    );
    await this.poller.start();
  }

  horizon() {
    return horizonOf(todayIn(this.options.timeZone), this.options.horizonDays);
  }

  /**
   * The key indexes say where each booking and override was; rebuilt from MongoDB on taking the
   * lease. The same read finds the documents written before now that do not fit the schema (a
   * date of another type among them), so they are counted in /metrics from the start.
   */
  private async loadIndexes(): Promise<void> {
    const { from } = this.horizon();
    const { bookingKeys, overrideKeys } = this.options;
    const { mapping, collections } = this.options.documents;
    const storedDateType = mapping.schema.types.date === 'date' ? 'date' : 'string';
    const entries = async (part: 'bookings' | 'overrides') => {
      const f = mapping.schema[part].fields;
      const docs = (await collections[part]
        .find(
          { $or: [{ [f.date]: mapping.dateRange(from) }, { [f.date]: { $not: { $type: storedDateType } } }] },
          { projection: Object.fromEntries(Object.values(f).map((path) => [path, 1])) },
        )
        .toArray()) as Raw[];
      return docs.flatMap((doc): [string, Key][] => {
        const read: Read<{ key: Key }> = part === 'bookings' ? mapping.booking(doc) : mapping.override(doc);
        mapping.noted(part, doc, read);
        const key = read.ok ? read.value.key : read.key;
        return key ? [[String(doc._id), key]] : [];
      });
    };
    await bookingKeys.set(await entries('bookings'));
    await overrideKeys.set(await entries('overrides'));
  }

  /**
   * Recomputes the horizon, at most once per interval; asking again meanwhile queues one more.
   * `announceAll` (after events may have been lost) publishes every key, not only those that
   * differ from the cache: the cache may hold rows that were never published.
   */
  requestResync(reason: string, options: { announceAll?: boolean } = {}): void {
    if (this.stopped) return;
    this.announceAllNext ||= options.announceAll === true;
    if (this.resyncTimer) return;
    const wait = Math.max(0, this.lastResync + RESYNC_MIN_INTERVAL_MS - Date.now());
    this.resyncTimer = setTimeout(() => {
      this.resyncTimer = undefined;
      this.lastResync = Date.now();
      const announceAll = this.announceAllNext;
      this.announceAllNext = false;
      this.resyncing = this.resyncing.then(() => this.resync(reason, announceAll));
    }, wait);
  }

  private async resync(reason: string, announceAll: boolean): Promise<void> {
    const { writes, lease, logger, metrics } = this.options;
    if (!lease.isHeld()) return;
    try {
      const result = await writes.refresh(this.horizon(), { mayPublish: () => lease.isHeld(), announceAll });
      // A resync runs because events may have been lost: the guard's ledgers must recount their places as well.
      await this.options.guard?.resynced(this.horizon());
      metrics?.feedResyncs.inc();
      logger.info({ reason, announceAll, ...result }, 'resynced the horizon');
    } catch (error) {
      logger.warn({ reason, err: error }, 'resync failed; trying again');
      this.requestResync(reason, { announceAll });
    }
  }

  /** Bounded: the watchers and the poller get `waitMs` to finish what they are doing. */
  private async stepDown(waitMs = STOP_WAIT_MS): Promise<void> {
    this.generation += 1;
    this.liveness.stop();
    const watchers = this.watchers;
    const poller = this.poller;
    this.watchers = [];
    this.poller = undefined;
    const polling = poller ? within(poller.stop(), waitMs) : undefined;
    await Promise.all([...watchers.map((watcher) => watcher.stop(waitMs)), polling]);
  }

  /** Waits until every change seen so far has been recomputed and published (tests, shutdown). */
  async idle(): Promise<void> {
    await this.coalescer.idle();
    await this.resyncing;
  }

  /**
   * Bounded whatever MongoDB does: the streams, the last batch and a running resync get
   * STOP_WAIT_MS in all; whatever is still running then publishes nothing once the lease is released.
   */
  async stop(): Promise<void> {
    const { logger } = this.options;
    const deadline = performance.now() + STOP_WAIT_MS;
    this.stopped = true;
    clearTimeout(this.resyncTimer);
    await this.stepDown();
    const last = this.coalescer.idle().catch((error: unknown) => logger.warn({ err: error }, 'last batch not published'));
    const finished = await within(Promise.all([last, this.resyncing]), Math.max(0, deadline - performance.now()));
    if (!finished.settled) logger.warn({ waitedMs: STOP_WAIT_MS }, 'stopping with a batch or resync still running; it publishes nothing once the lease is released');
    await this.options.lease.stop();
  }
}

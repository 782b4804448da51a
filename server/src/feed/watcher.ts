import { mongo, type Collection } from 'mongoose';
import type { Logger } from '../observability/logger.ts';
import { cancellableDelay, within } from '../within.ts';
import type { ResumeTokens } from './resume-tokens.ts';
import { WatcherTokens } from './watcher-tokens.ts';
import type { FeedEvent } from './translate.ts';
import { classifyStreamError, closeStream, pauseAfterEmptyPull, pullWithWatchdog, type StreamFailure } from './change-stream.ts';
import type { WatcherHooks, WatcherProgress } from './watcher-hooks.ts';

export type { WatcherHooks, WatcherProgress } from './watcher-hooks.ts';

/** How long a quiet stream waits before storing its newest post-batch token anyway. */
const IDLE_SAVE_MS = 5_000;
/**
 * start() waits this long at most for the stream's first answer: a change stream follows writes
 * only from when MongoDB has run its aggregate, so what the caller does next (a resync, a test's
 * write) must come after that; a MongoDB that does not answer must not hold up a take-over.
 */
const FIRST_ANSWER_WAIT_MS = 2_000;
/**
 * Pause before reopening after a failure, doubling per failure in a row. Short: while MongoDB is
 * away each attempt already waits in server selection, and the first one after it is back should
 * come soon (sockets converge within seconds of MongoDB's return).
 */
const REOPEN_BACKOFF = { firstMs: 250, maxMs: 2_000 };
/** stop() waits this long for the batch being handled (a MongoDB that does not answer holds it). */
const STOP_WAIT_MS = 2_000;

/** An event received and not yet handled; clusterSeconds is MongoDB's clusterTime of it (the oplog's clock). */
type Pulled = { event: FeedEvent; token: unknown; receivedAt: number; clusterSeconds: number | undefined };

/** Where a reopened stream starts: the stored token, or now (then the caller resyncs). */
type Reopen = { from: 'stored'; delayMs: number } | { from: 'now'; lost: string };

const now = () => performance.now();

/**
 * Follows one collection's change stream from its stored token. Events are handed on in order,
 * in batches of what arrived together; the resume token (the post-batch token once a batch is
 * drained) is stored after each batch is handled, and when idle.
 *
 * Ordering: everything that must happen in sequence (handling a batch, storing the idle token,
 * reopening the stream) is a step on one queue, `steps`. A step never awaits the queue; it may
 * only append to it. When a batch fails, it drops its stream and appends the reopen, which runs
 * right after it. Each stream has a generation; dropping one bumps it, and whatever the old stream
 * still delivers or queued is ignored by the generation check, never waited for.
 */
export class CollectionWatcher {
  private generation = 0;
  private stream: mongo.ChangeStream | undefined;
  private steps: Promise<void> = Promise.resolve();
  private buffer: Pulled[] = [];
  private inFlight: Pulled[] = [];
  private scheduled = false;
  private stopped = false;
  private idleTimer: NodeJS.Timeout | undefined;
  private lastEventAt = -Infinity;
  /** Last time a stream answered a pull (an event or "nothing new"), or the watcher started. */
  private answeredAt = now();
  private handledAt = now();
  private failuresInARow = 0;
  /** Per stream: whether it used a stored token, answered yet, and its post-batch token at the last empty pull. */
  private opened = { resumed: false, answered: false };
  /** Called at the current stream's first answer (or failure). */
  private onAnswer: (() => void) | undefined;
  private quiet: { token: unknown; pulled: number } | undefined;
  private pulled = 0;
  private handled = 0;
  /** Ends the backoff pause before a reopen early (on stop). */
  private cancelPause: (() => void) | undefined;
  /**
   * Why a resync is owed (the stream restarted from now). It is asked for once a stream has
   * answered, so the resync reads MongoDB after the stream's start and no write falls between them.
   */
  private owedResync: string | undefined;

  private readonly tokens: WatcherTokens;

  constructor(
    private readonly collection: Collection,
    tokens: ResumeTokens,
    private readonly hooks: WatcherHooks,
    private readonly logger: Logger,
  ) {
    this.tokens = new WatcherTokens(tokens, collection.collectionName, logger);
  }

  get name(): string {
    return this.collection.collectionName;
  }

  /** Opens the stream; resolves with whether a stored token was used. */
  async start(): Promise<{ resumed: boolean }> {
    this.answeredAt = now();
    const token = await this.tokens.load();
    const answered = new Promise<void>((resolve) => (this.onAnswer = resolve));
    this.open(token, this.generation);
    await within(answered, FIRST_ANSWER_WAIT_MS);
    this.idleTimer = setInterval(() => this.enqueue((generation) => this.saveIdle(generation)), IDLE_SAVE_MS);
    this.idleTimer.unref();
    return { resumed: token !== undefined };
  }

  /** Liveness: a pull that has not answered, or events not handled, count as stalled time. */
  progress(at = now()): WatcherProgress {
    if (this.stopped) return { collection: this.name, stalledMs: 0, lagSeconds: 0 };
    const oldest = this.inFlight[0] ?? this.buffer[0];
    const handleStall = oldest ? at - Math.max(oldest.receivedAt, this.handledAt) : 0;
    const lag = oldest?.clusterSeconds === undefined ? 0 : Math.max(0, Date.now() / 1000 - oldest.clusterSeconds);
    return { collection: this.name, stalledMs: Math.max(0, at - this.answeredAt, handleStall), lagSeconds: lag };
  }

  private open(resumeAfter: unknown, generation: number): void {
    if (this.stopped || generation !== this.generation) return;
    const stream = this.collection.watch([], {
      fullDocument: 'updateLookup',
      fullDocumentBeforeChange: 'whenAvailable',
      maxAwaitTimeMS: 500,
      ...(resumeAfter ? { resumeAfter } : {}),
    });
    this.stream = stream;
    this.opened = { resumed: resumeAfter !== undefined, answered: false };
    this.quiet = undefined;
    this.pulled = 0;
    this.handled = 0;
    // answeredAt is not reset: opening a stream is not progress, its first answer is.
    void this.pump(stream, generation);
  }

  /** Pulls events one by one (pausing briefly after an empty pull, see pauseAfterEmptyPull). */
  private async pump(stream: mongo.ChangeStream, generation: number): Promise<void> {
    while (generation === this.generation && !this.stopped) {
      let event: (FeedEvent & { operationType: string; clusterTime?: mongo.Timestamp }) | null;
      try {
        event = await pullWithWatchdog(stream);
      } catch (error) {
        this.failed(error as Error, generation);
        return;
      }
      if (generation !== this.generation) return;
      this.answeredAt = now();
      this.opened.answered = true;
      this.answered();
      this.failuresInARow = 0;
      if (this.owedResync) {
        this.hooks.lostHistory(this.owedResync);
        this.owedResync = undefined;
      }
      if (!event) {
        this.quiet = { token: stream.resumeToken, pulled: this.pulled };
        await pauseAfterEmptyPull(now() - this.lastEventAt);
        continue;
      }
      this.lastEventAt = now();
      if (event.operationType === 'invalidate' || event.operationType === 'drop' || event.operationType === 'rename') {
        this.drop(generation, { from: 'now', lost: `stream ${event.operationType}` });
        return;
      }
      this.pulled += 1;
      this.buffer.push({ event, token: stream.resumeToken, receivedAt: this.lastEventAt, clusterSeconds: event.clusterTime?.t });
      this.schedule(generation);
    }
  }

  private answered(): void {
    this.onAnswer?.();
    this.onAnswer = undefined;
  }

  private failed(error: Error, generation: number): void {
    this.answered();
    if (generation !== this.generation || this.stopped) return;
    const kind: StreamFailure = classifyStreamError(error, this.opened);
    if (kind === 'unsupported') {
      this.generation += 1;
      this.hooks.unsupported(error);
      return;
    }
    this.logger.warn({ collection: this.name, err: error.message, code: (error as { code?: unknown }).code, kind }, 'change stream failed; reopening');
    if (kind === 'token-unusable') this.drop(generation, { from: 'now', lost: `resume failed: ${error.message}` });
    else this.drop(generation, { from: 'stored', delayMs: this.backoff() });
  }

  /** Drops the current stream (its events and queued batches with it) and queues the reopen behind whatever step is running. */
  private drop(generation: number, next: Reopen): void {
    if (generation !== this.generation || this.stopped) return;
    const mine = ++this.generation;
    const old = this.stream;
    this.stream = undefined;
    this.buffer = [];
    void closeStream(old, this.name, this.logger);
    this.enqueue(() => this.reopen(mine, next));
  }

  private async reopen(generation: number, next: Reopen): Promise<void> {
    const current = () => generation === this.generation && !this.stopped;
    if (!current()) return;
    if (next.from === 'now') {
      this.logger.warn({ collection: this.name, reason: next.lost }, 'change stream history lost; reopening from now and resyncing');
      await this.tokens.clear();
      this.owedResync = `${this.name}: ${next.lost}`;
      this.open(undefined, generation);
      return;
    }
    const pause = cancellableDelay(next.delayMs);
    this.cancelPause = pause.cancel;
    await pause.done;
    if (!current()) return;
    const token = await this.tokens.load();
    // Reopening from now would skip whatever was written since the last handled batch: the resync covers it.
    if (token === undefined) this.owedResync ??= `${this.name}: no stored token to reopen from`;
    if (current()) this.open(token, generation);
  }

  private backoff(): number {
    return Math.min(REOPEN_BACKOFF.maxMs, REOPEN_BACKOFF.firstMs * 2 ** this.failuresInARow++);
  }

  /** Appends a step for the current generation; steps run one at a time, in order, and never reject. */
  private enqueue(step: (generation: number) => Promise<void>): void {
    const generation = this.generation;
    this.steps = this.steps.then(() =>
      step(generation).catch((error: unknown) => this.logger.error({ collection: this.name, err: error }, 'change stream step failed')),
    );
  }

  /**
   * Queues one step that takes the buffer when it runs, not when it is queued: whatever arrives
   * while a batch is being handled (its coalescing window and recompute) becomes one batch, so
   * the feed keeps up by handling more per batch instead of queueing a batch per pull.
   */
  private schedule(generation: number): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      if (generation !== this.generation) return this.rescheduleForCurrent();
      this.enqueue(async () => {
        // The buffer holds only the current stream's events (a drop empties it and bumps the generation).
        if (generation !== this.generation) return this.rescheduleForCurrent();
        this.scheduled = false;
        const batch = this.buffer;
        this.buffer = [];
        if (batch.length > 0) await this.handleBatch(batch, generation);
      });
    });
  }

  /** A step of a dropped stream: the current stream's events (if any came meanwhile) get a step of their own. */
  private rescheduleForCurrent(): void {
    this.scheduled = false;
    if (this.buffer.length > 0) this.schedule(this.generation);
  }

  private async handleBatch(batch: Pulled[], generation: number): Promise<void> {
    if (generation !== this.generation || this.stopped) return;
    this.inFlight = batch;
    try {
      await this.hooks.handle(batch.map((item) => item.event));
      await this.tokens.save(batch.at(-1)!.token);
      this.handled += batch.length;
      this.handledAt = now();
      this.failuresInARow = 0;
    } catch (error) {
      // Not stored: this watcher (reopening from the stored token) or the next leader replays the batch.
      this.logger.error({ collection: this.name, err: error, events: batch.length }, 'change batch failed; reopening from the stored token');
      this.drop(generation, { from: 'stored', delayMs: this.backoff() });
    } finally {
      this.inFlight = [];
    }
  }

  /** The post-batch token of the last empty pull, once every event pulled before it was handled. */
  private async saveIdle(generation: number): Promise<void> {
    if (generation !== this.generation || this.stopped || !this.quiet || this.quiet.pulled !== this.handled) return;
    await this.tokens.save(this.quiet.token).catch((error: unknown) => this.logger.warn({ err: error }, 'idle token store failed'));
  }


  /** Bounded: waits for the running step (the batch being handled) at most `waitMs`. */
  async stop(waitMs = STOP_WAIT_MS): Promise<void> {
    this.stopped = true;
    this.generation += 1;
    this.answered();
    clearInterval(this.idleTimer);
    this.cancelPause?.();
    this.buffer = [];
    const old = this.stream;
    this.stream = undefined;
    const done = await within(Promise.all([closeStream(old, this.name, this.logger), this.steps]), waitMs);
    if (!done.settled) {
      // Once the lease is released its recompute publishes nothing, and its token store is refused.
      this.logger.warn({ collection: this.name, waitedMs: waitMs }, 'change stream watcher stopped with a batch still running');
    }
  }
}

import { mongo, type Collection } from 'mongoose';
import type { Logger } from '../observability/logger.ts';
import type { ResumeTokens } from './resume-tokens.ts';
import type { FeedEvent } from './translate.ts';

/** Server errors after which a stored token cannot be used: start from now and resync instead. */
const TOKEN_UNUSABLE = new Set([
  286, // ChangeStreamHistoryLost
  280, // ChangeStreamFatalError
  260, // InvalidResumeToken
]);
/** The deployment has no change streams (a standalone mongod). */
export const CHANGE_STREAMS_UNSUPPORTED = new Set([40573, 40324]);

export interface WatcherHooks {
  /** Handles events in order; the token is stored only after this resolves. */
  handle(events: FeedEvent[]): Promise<void>;
  /** The stored token could not be used, or the stream was invalidated: the caller resyncs. */
  lostHistory(reason: string): void;
  /** The deployment cannot watch at all. */
  unsupported(error: Error): void;
}

/** How long a quiet stream waits before storing its newest post-batch token anyway. */
const IDLE_SAVE_MS = 5_000;
/**
 * The pause after an empty batch, on servers that answer getMore at once instead of waiting for
 * data (mongo-java-server; a replica set waits up to maxAwaitTimeMS, so the pause hardly ever
 * comes). It bounds the delivery latency it adds: short while writes are arriving, longer when
 * the collection has been quiet for a while, to spare the idle CPU.
 */
const EMPTY_BATCH_PAUSE = { activeMs: 2, quietMs: 20, activeForMs: 2_000 };
/** Far beyond maxAwaitTimeMS (500 ms): a pull still open after this is stuck. */
const PULL_WATCHDOG_MS = 15_000;

/**
 * Follows one collection's change stream from its stored token. Events are handed on in order,
 * in batches of what arrived together; the resume token (the post-batch token once a batch is
 * drained) is stored after each batch is handled, and when idle.
 */
export class CollectionWatcher {
  private stream: mongo.ChangeStream | undefined;
  private chain: Promise<void> = Promise.resolve();
  private buffer: { event: FeedEvent; token: unknown }[] = [];
  private scheduled = false;
  private stopped = false;
  private idleTimer: NodeJS.Timeout | undefined;
  private savedToken: string | undefined;
  private lastEventAt = -Infinity;

  constructor(
    private readonly collection: Collection,
    private readonly tokens: ResumeTokens,
    private readonly hooks: WatcherHooks,
    private readonly logger: Logger,
  ) {}

  get name(): string {
    return this.collection.collectionName;
  }

  /** Opens the stream; resolves with whether a stored token was used. */
  async start(): Promise<{ resumed: boolean }> {
    const token = await this.loadToken();
    this.open(token);
    return { resumed: token !== undefined };
  }

  private open(resumeAfter: unknown): void {
    if (this.stopped) return;
    const stream = this.collection.watch([], {
      fullDocument: 'updateLookup',
      fullDocumentBeforeChange: 'whenAvailable',
      maxAwaitTimeMS: 500,
      ...(resumeAfter ? { resumeAfter } : {}),
    });
    this.stream = stream;
    void this.pump(stream);
  }

  /**
   * Pulls events one by one. After an empty batch it pauses: a replica set only answers empty
   * after maxAwaitTimeMS, but mongo-java-server answers at once, and without the pause the
   * driver would ask again in a tight loop (about a core of CPU for an idle stream).
   */
  private async pump(stream: mongo.ChangeStream): Promise<void> {
    while (!this.stopped && this.stream === stream) {
      let event: (FeedEvent & { operationType: string }) | null;
      try {
        event = await this.pull(stream);
      } catch (error) {
        if (this.stream === stream) this.failed(error as Error & { code?: number });
        return;
      }
      if (this.stream !== stream) return;
      if (!event) {
        const active = performance.now() - this.lastEventAt < EMPTY_BATCH_PAUSE.activeForMs;
        await new Promise((resolve) => setTimeout(resolve, active ? EMPTY_BATCH_PAUSE.activeMs : EMPTY_BATCH_PAUSE.quietMs));
        continue;
      }
      this.lastEventAt = performance.now();
      if (event.operationType === 'invalidate' || event.operationType === 'drop' || event.operationType === 'rename') {
        void this.restart(undefined, `stream ${event.operationType}`);
        return;
      }
      this.buffer.push({ event, token: stream.resumeToken });
      this.schedule();
    }
  }

  /**
   * One tryNext, with a watchdog: a pull should end within maxAwaitTimeMS, and one that has not
   * ended long after is treated as a failed stream (reopened from the stored token), so a stuck
   * cursor cannot silently stop the feed.
   */
  private async pull(stream: mongo.ChangeStream): Promise<(FeedEvent & { operationType: string }) | null> {
    let timer: NodeJS.Timeout | undefined;
    const watchdog = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer from the change stream in ${PULL_WATCHDOG_MS} ms`)), PULL_WATCHDOG_MS);
    });
    const next = stream.tryNext() as Promise<(FeedEvent & { operationType: string }) | null>;
    // If the watchdog wins, the abandoned pull may still fail later; that is expected.
    next.catch(() => null);
    try {
      return await Promise.race([next, watchdog]);
    } finally {
      clearTimeout(timer);
    }
  }

  private failed(error: Error & { code?: number }): void {
    if (this.stopped) return;
    if (CHANGE_STREAMS_UNSUPPORTED.has(error.code ?? 0)) {
      this.hooks.unsupported(error);
      return;
    }
    const unusable = TOKEN_UNUSABLE.has(error.code ?? 0) || /resume/i.test(error.message);
    this.logger.warn({ collection: this.name, err: error.message, code: error.code }, 'change stream failed; reopening');
    void this.restart(unusable ? undefined : 'stored', unusable ? `resume failed: ${error.message}` : undefined);
  }

  /** Reopens from the stored token ('stored') or from now (undefined, followed by a resync). */
  private async restart(from: 'stored' | undefined, lostReason: string | undefined): Promise<void> {
    const old = this.stream;
    this.stream = undefined;
    await this.closeStream(old);
    await this.chain;
    if (this.stopped) return;
    if (lostReason) {
      this.logger.warn({ collection: this.name, reason: lostReason }, 'change stream history lost; reopening from now and resyncing');
      await this.clearToken();
      this.hooks.lostHistory(`${this.name}: ${lostReason}`);
      this.open(undefined);
      return;
    }
    const token = from === 'stored' ? await this.loadToken() : undefined;
    setTimeout(() => this.open(token), 500);
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const batch = this.buffer;
      this.buffer = [];
      if (batch.length === 0) return;
      this.chain = this.chain.then(() => this.process(batch));
    });
  }

  private async process(batch: { event: FeedEvent; token: unknown }[]): Promise<void> {
    if (this.stopped) return;
    try {
      await this.hooks.handle(batch.map((item) => item.event));
      await this.save(batch.at(-1)!.token);
    } catch (error) {
      // Not stored: a later leader (or this one, reopening) replays from the last stored token.
      this.logger.error({ collection: this.name, err: error }, 'change batch failed; reopening from the stored token');
      await this.restart('stored', undefined);
      return;
    }
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => void this.saveIdle(), IDLE_SAVE_MS);
  }

  private async saveIdle(): Promise<void> {
    if (this.stopped || this.buffer.length > 0) return;
    await this.chain;
    const token = this.stream?.resumeToken;
    if (token) await this.save(token).catch((error: unknown) => this.logger.warn({ err: error }, 'idle token store failed'));
    this.idleTimer = setTimeout(() => void this.saveIdle(), IDLE_SAVE_MS);
  }

  private async save(token: unknown): Promise<void> {
    if (!token) return;
    const text = JSON.stringify(token);
    if (text === this.savedToken) return;
    if (await this.tokens.save(this.name, token)) this.savedToken = text;
    else this.logger.warn({ collection: this.name }, 'resume token store refused: not the leader');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.idleTimer);
    await this.closeStream(this.stream);
    await this.chain;
  }

  /** A token left in place (refused, Redis away) costs the next start one failed resume, which clears it; this stream reopens from now either way. */
  private async clearToken(): Promise<void> {
    try {
      if (!(await this.tokens.clear(this.name))) this.logger.warn({ collection: this.name }, 'resume token clear refused: not the leader');
    } catch (error) {
      this.logger.warn({ collection: this.name, err: (error as Error).message }, 'could not clear the resume token');
    }
  }

  /** A token that cannot be read (Redis away) means starting from now; the caller's resync covers the gap. */
  private async loadToken(): Promise<unknown> {
    try {
      return await this.tokens.load(this.name);
    } catch (error) {
      this.logger.warn({ collection: this.name, err: (error as Error).message }, 'could not read the resume token; starting from now');
      return undefined;
    }
  }

  private async closeStream(stream: mongo.ChangeStream | undefined): Promise<void> {
    try {
      await stream?.close();
    } catch (error) {
      this.logger.warn({ collection: this.name, err: (error as Error).message }, 'change stream did not close cleanly');
    }
  }
}

import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { mongo } from 'mongoose';
import { openTestDatabase } from '../support/database.ts';
import { Waiter } from '../support/waiter.ts';
import { LocalLease } from '../../server/src/cluster/lease.ts';
import { MemoryResumeTokens } from '../../server/src/feed/resume-tokens.ts';
import { CollectionWatcher } from '../../server/src/feed/watcher.ts';
import type { FeedEvent } from '../../server/src/feed/translate.ts';
import { whenDone } from '../support/cleanup.ts';

const database = await openTestDatabase();

/** Real in-memory token storage that also says when a token was stored (the watcher stores it after handling). */
class ObservedTokens extends MemoryResumeTokens {
  saved: unknown[] = [];
  constructor(lease: LocalLease, private readonly wake: () => void) {
    super(lease);
  }
  override async save(collection: string, token: unknown): Promise<boolean> {
    const stored = await super.save(collection, token);
    if (stored) this.saved.push(token);
    this.wake();
    return stored;
  }
}

/** A watcher on a collection of its own, recording the userId of every event it handled. */
async function watch(collectionName: string, options: { failOn?: string; storedToken?: unknown } = {}) {
  const collection = database.connection.db!.collection(collectionName);
  const lease = new LocalLease();
  lease.start({ onAcquired: () => undefined, onLost: () => undefined });
  const waiter = new Waiter();
  const tokens = new ObservedTokens(lease, () => waiter.wake());
  if (options.storedToken) await tokens.save(collectionName, options.storedToken);
  const seen = { handled: [] as string[], failures: 0, lost: [] as string[], unsupported: [] as Error[] };
  let failNext = options.failOn;
  const userIds = (events: FeedEvent[]) => events.map((event) => String(event.fullDocument?.userId));
  const watcher = new CollectionWatcher(
    collection as never,
    tokens,
    {
      async handle(events) {
        if (failNext && userIds(events).includes(failNext)) {
          failNext = undefined;
          seen.failures += 1;
          waiter.wake();
          throw new Error('the handler failed once (as a recompute does when MongoDB or Redis is away)');
        }
        seen.handled.push(...userIds(events));
        waiter.wake();
      },
      lostHistory: (reason) => {
        seen.lost.push(reason);
        waiter.wake();
      },
      unsupported: (error) => seen.unsupported.push(error),
    },
    pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
  );
  let stopped = false;
  whenDone(async () => {
    if (!stopped) await watcher.stop();
  });
  const started = await watcher.start();
  return {
    started,
    seen,
    tokens,
    insert: (userId: string) => collection.insertOne({ userId }),
    until: (description: string, condition: () => boolean) =>
      waiter.until(description, condition, 10_000, { detail: () => JSON.stringify(seen) }),
    async stop() {
      stopped = true;
      const at = performance.now();
      await watcher.stop();
      return performance.now() - at;
    },
  };
}

describe('CollectionWatcher', () => {
  it('keeps following the stream after a batch fails once: the failed batch is replayed from the stored token, then later events follow', async () => {
    const w = await watch('fails_once', { failOn: 'boom' });
    await w.insert('first');
    await w.until('the first event and its token', () => w.seen.handled.includes('first') && w.tokens.saved.length === 1);

    await w.insert('boom');
    await w.until('the failure', () => w.seen.failures === 1);
    await w.insert('after');
    await w.until('the failed batch replayed and the next event', () => w.seen.handled.includes('boom') && w.seen.handled.includes('after'));
    // In order, each once after the failure: the replay starts after the last stored batch.
    expect(w.seen.handled).toEqual(['first', 'boom', 'after']);
    expect(w.seen.lost).toEqual([]);

    const stopMs = await w.stop();
    expect(stopMs).toBeLessThan(2_500);
  });

  it('a stored token the server cannot use is cleared: the watcher starts from now and asks for a resync', async () => {
    // The shape of a real replica set's token, which mongo-java-server refuses without an error code.
    const foreign = { _data: '8263F1A2B3000000012B022C0100296E5A1004' };
    const w = await watch('foreign_token', { storedToken: foreign });
    expect(w.started.resumed).toBe(true);
    await w.until('the resync request', () => w.seen.lost.length === 1);
    expect(w.seen.lost[0]).toMatch(/^foreign_token: resume failed/);
    expect(await w.tokens.load('foreign_token')).toBeUndefined();
    await w.insert('later');
    await w.until('an event after the reopen, and its token', () => w.seen.handled.includes('later') && w.tokens.saved.length === 2);
    const stored = (await w.tokens.load('foreign_token')) as mongo.ResumeToken | undefined;
    expect(stored).toBeDefined();
    expect(stored).not.toEqual(foreign);
    expect(w.seen.unsupported).toEqual([]);
  });
});

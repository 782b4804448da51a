import type { Logger } from '../observability/logger.ts';
import { mongo } from 'mongoose';
import type { FeedEvent } from './translate.ts';

// What the watcher needs from the driver's change streams: what an error means, pulling with a watchdog, closing quietly.

/** Server error codes after which a stored token cannot be used: start from now and resync instead. */
const TOKEN_UNUSABLE = new Set([
  286, // ChangeStreamHistoryLost: the token's position has left the oplog
  280, // ChangeStreamFatalError
  260, // InvalidResumeToken
]);
/**
 * The label servers since 4.4 put on change stream errors that no resume can get past. The driver
 * lists only the resumable label (`MongoErrorLabel.ResumableChangeStreamError`), so it is named here.
 */
const NON_RESUMABLE_LABEL = 'NonResumableChangeStreamError';
/** The deployment has no change streams (a standalone mongod): 40573 "only supported on replica sets", 40324 unknown stage. */
export const CHANGE_STREAMS_UNSUPPORTED = new Set([40573, 40324]);

/**
 * - `unsupported`: this deployment cannot watch at all (fall back to polling).
 * - `token-unusable`: the stored resume token cannot be used (history lost, invalid): reopen from now and resync.
 * - `transient`: anything else (network, server selection, a pool cleared, the pull watchdog): reopen from the stored token.
 */
export type StreamFailure = 'unsupported' | 'token-unusable' | 'transient';

/**
 * What an error that ended a change stream means, from the driver's error classes, the server's
 * codes and its error labels, never from the message. By the time an error reaches the watcher
 * the driver has already resumed whatever its rules allow (network errors, ResumableChangeStreamError,
 * CursorNotFound), so the stream is closed either way; what is decided here is where to reopen it.
 */
export function classifyStreamError(error: unknown, stream: { resumed: boolean; answered: boolean }): StreamFailure {
  // Not a server's answer: no server said anything about the token.
  if (!(error instanceof mongo.MongoServerError)) return 'transient';
  const code = typeof error.code === 'number' ? error.code : undefined;
  if (code !== undefined && CHANGE_STREAMS_UNSUPPORTED.has(code)) return 'unsupported';
  if ((code !== undefined && TOKEN_UNUSABLE.has(code)) || error.hasErrorLabel(NON_RESUMABLE_LABEL)) return 'token-unusable';
  // mongo-java-server (the test and development database) answers a token it cannot parse, such
  // as one a real replica set issued, with a server error that has neither a code nor a label
  // ("Unknown error: For input string ... under radix 16"). A real server always sends a code. A
  // codeless refusal of a resumed stream before it ever answered can only be about its token.
  // (A well-formed token it never issued is not refused at all: it replays from the next entry
  // after it, where a replica set would report ChangeStreamHistoryLost; the resync every new
  // leader runs covers that.)
  if (code === undefined && stream.resumed && !stream.answered) return 'token-unusable';
  return 'transient';
}

/**
 * The pause after an empty batch, on servers that answer getMore at once instead of waiting for
 * data (mongo-java-server; a replica set waits up to maxAwaitTimeMS, so the pause hardly ever
 * comes). Without it the driver would ask again in a tight loop (about a core of CPU for an idle
 * stream). It bounds the delivery latency it adds: short while writes are arriving, longer when
 * the collection has been quiet for a while, to spare the idle CPU.
 */
const EMPTY_BATCH_PAUSE = { activeMs: 2, quietMs: 20, activeForMs: 2_000 };

export function pauseAfterEmptyPull(sinceLastEventMs: number): Promise<void> {
  const ms = sinceLastEventMs < EMPTY_BATCH_PAUSE.activeForMs ? EMPTY_BATCH_PAUSE.activeMs : EMPTY_BATCH_PAUSE.quietMs;
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Far beyond maxAwaitTimeMS (500 ms): a pull still open after this is stuck. */
const PULL_WATCHDOG_MS = 15_000;

/**
 * One tryNext, with a watchdog: a pull should end within maxAwaitTimeMS, and one that has not
 * ended long after is treated as a failed stream (a `transient` error: reopened from the stored
 * token), so a stuck cursor cannot silently stop the feed.
 */
export async function pullWithWatchdog(stream: mongo.ChangeStream): Promise<(FeedEvent & { operationType: string }) | null> {
  let timer: NodeJS.Timeout | undefined;
  const watchdog = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from the change stream in ${PULL_WATCHDOG_MS} ms`)), PULL_WATCHDOG_MS);
  });
  const next = stream.tryNext() as Promise<(FeedEvent & { operationType: string }) | null>;
  // If the watchdog wins, the abandoned pull fails later (its stream is closed); the watchdog's error is the one reported.
  next.catch(() => null);
  try {
    return await Promise.race([next, watchdog]);
  } finally {
    clearTimeout(timer);
  }
}

/** Closes a stream being dropped; one that does not close cleanly is logged, never thrown. */
export async function closeStream(stream: mongo.ChangeStream | undefined, collection: string, logger: Logger): Promise<void> {
  try {
    await stream?.close();
  } catch (error) {
    logger.warn({ collection, err: (error as Error).message }, 'change stream did not close cleanly');
  }
}

import { tracked, type TrackedEnvelope } from '@trpc/server';
import type { HubEvent, SessionAvailability } from '@slotcast/shared';
import { advance, covers, EVENT_ID, type EventLog, type LoggedEvent } from '../broadcast/event-log.ts';
import { AsyncQueue } from './queue.ts';

/** Events a subscriber may fall behind by before its stream is ended (it then resumes from its last id). */
const BACKLOG_LIMIT = 5_000;

/**
 * One channel's events for an SSE subscriber. Listens before reading anything, then sends either
 * the log after `lastEventId` or, without a usable id, a snapshot; then live events, each once.
 * Snapshot items get ids "<tip>:s<n>" (the last one plain "<tip>"): resuming from a partial
 * snapshot sends the snapshot again, resuming after it continues from the log. Every id is a
 * cursor of the log (event-log.ts): this subscriber's own, moved past each event it sends.
 */
export async function* channelEvents(options: {
  /** The rooms the channel's events are routed to (`deliveryRooms`). */
  rooms: string[];
  lastEventId: string | null | undefined;
  events: EventLog;
  snapshot: () => Promise<SessionAvailability[]>;
  signal: AbortSignal | undefined;
}): AsyncGenerator<TrackedEnvelope<HubEvent>, string> {
  const { events } = options;
  const rooms = new Set(options.rooms);
  const forChannel = (entry: LoggedEvent) => entry.channels.some((room) => rooms.has(room));
  const queue = new AsyncQueue<LoggedEvent>(BACKLOG_LIMIT);
  const stopListening = events.subscribe((entry) => {
    if (forChannel(entry)) queue.push(entry);
  });
  try {
    const backlog = options.lastEventId && EVENT_ID.test(options.lastEventId) ? await events.after(options.lastEventId) : undefined;
    let last: string;
    if (backlog) {
      last = options.lastEventId!;
      for (const entry of backlog) {
        if (!forChannel(entry)) continue;
        last = advance(last, entry);
        yield tracked(last, entry.event);
      }
    } else {
      last = await events.tip();
      const rows = await options.snapshot();
      for (const [i, row] of rows.entries()) {
        const id = i === rows.length - 1 ? last : `${last}:s${i}`;
        yield tracked(id, { type: 'availability.updated', data: { ...row, reason: 'refresh' } });
      }
    }
    for await (const entry of queue.drain(options.signal)) {
      if (covers(last, entry)) continue;
      last = advance(last, entry);
      yield tracked(last, entry.event);
    }
    // Ended by `signal`: where to resume. Everything up to it was sent; after an empty snapshot, no event carried it.
    return last;
  } finally {
    stopListening();
  }
}

/** Why a stream ended at its token's expiry, with where the renewed stream resumes (the error's `data.lastEventId`). */
export class StreamExpiredError extends Error {
  constructor(readonly lastEventId: string) {
    super('the token expired; subscribe again with a fresh one');
    this.name = 'StreamExpiredError';
  }
}

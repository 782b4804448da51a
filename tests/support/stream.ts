import type { HubEvent } from '@slotcast/shared';
import type { SlotcastClient } from '../../client/src/index.ts';
import { Waiter } from './waiter.ts';

export interface Tracked {
  id: string;
  data: HubEvent;
}

/** An SSE subscription through the typed client that collects events and lets a test wait for them. */
export function openStream(client: SlotcastClient, channel: string, lastEventId?: string) {
  const events: Tracked[] = [];
  const waiter = new Waiter();
  let failure: Error | undefined;
  let started!: () => void;
  const startedPromise = new Promise<void>((resolve) => (started = resolve));
  const subscription = client.availability.subscribe.subscribe(
    { channel, lastEventId },
    {
      onStarted: () => started(),
      onData(value) {
        events.push(value as unknown as Tracked);
        waiter.wake();
      },
      onError(error) {
        failure = error as Error;
        waiter.wake();
      },
    },
  );
  return {
    events,
    started: startedPromise,
    get error() {
      return failure;
    },
    /** Resolves when `predicate` holds over the events (or an error ends the stream), else rejects after the timeout. */
    until(description: string, predicate: (events: Tracked[]) => boolean, timeoutMs = 10_000): Promise<Tracked[]> {
      return waiter
        .until(description, () => predicate(events), timeoutMs, { failure: () => failure, detail: () => `got ${events.length} events` })
        .then(() => events);
    },
    close: () => subscription.unsubscribe(),
  };
}

import type { Key } from '@slotcast/shared';
import type { Broadcaster } from './port.ts';
import { routeEvents, type RoutedEvent } from './rooms.ts';

type HoldersOf = (keys: Key[]) => Promise<Map<string, string[]>>;

/** Somewhere routed events go: the event log (SSE), Socket.IO rooms. */
export type EventSink = (events: RoutedEvent[]) => unknown;

/** Works out each event's rooms once (with one query for the users holding bookings), then hands them to every sink. */
export function routedBroadcaster(holdersOf: HoldersOf, sinks: EventSink[]): Broadcaster {
  return {
    async publish(changes, bookings, options) {
      if (changes.length === 0 && !bookings?.length) return;
      const holders = await holdersOf(changes.map((change) => change.availability));
      const routed = routeEvents(changes, holders, bookings);
      for (const sink of sinks) {
        // Checked per sink, right before it runs: the awaits above and in earlier sinks take time.
        if (options?.mayPublish && !options.mayPublish()) return;
        await sink(routed);
      }
    },
  };
}

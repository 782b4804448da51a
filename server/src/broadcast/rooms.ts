import { GLOBAL_CHANNEL, dateChannel, sessionChannel, userChannel } from '@slotcast/shared';
import type { HubEvent, SessionAvailability } from '@slotcast/shared';
import type { AvailabilityChange, OwnerUpdate } from './port.ts';

/** The public rooms a key's changes go to: everyone, its date, its session. */
export function publicRooms(key: { sessionId: string; date: string }): string[] {
  return [GLOBAL_CHANNEL, dateChannel(key.date), sessionChannel(key.sessionId)];
}

export interface RoutedEvent {
  event: HubEvent;
  channels: string[];
}

/**
 * Turns a publish into events with their rooms: an update to the public rooms and the rooms of
 * the users holding a booking there, its alerts to the public rooms, each booking to its owner.
 */
export function routeEvents(
  changes: AvailabilityChange[],
  holders: Map<string, string[]>,
  bookings: OwnerUpdate[] = [],
): RoutedEvent[] {
  const keyOf = (a: SessionAvailability) => `${a.sessionId}:${a.date}`;
  return [
    ...changes.flatMap(({ availability, reason, alerts }) => {
      const rooms = publicRooms(availability);
      return [
        {
          event: { type: 'availability.updated', data: { ...availability, reason } } as HubEvent,
          channels: [...rooms, ...(holders.get(keyOf(availability)) ?? []).map(userChannel)],
        },
        ...alerts.map((alert) => ({ event: { type: 'availability.alert', data: alert } as HubEvent, channels: rooms })),
      ];
    }),
    ...bookings.map(({ userId, update }) => ({
      event: { type: 'booking.updated', data: update } as HubEvent,
      channels: [userChannel(userId)],
    })),
  ];
}

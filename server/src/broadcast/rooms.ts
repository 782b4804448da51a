import { GLOBAL_CHANNEL, dateChannel, dayRoom, keyOf, sessionChannel, userChannel, type HubEvent, type Key } from '@slotcast/shared';
import type { AvailabilityChange, OwnerUpdate } from './port.ts';

/** The public rooms a key's changes go to: everyone, its date, the ranges holding its date, its session. */
export function publicRooms(key: Key): string[] {
  return [GLOBAL_CHANNEL, dateChannel(key.date), dayRoom(key.date), sessionChannel(key.sessionId)];
}

export interface RoutedEvent {
  event: HubEvent;
  channels: string[];
}

/**
 * Turns a publish into events with their rooms: an update to the public rooms and the rooms of
 * the users holding a booking there, its alerts to the public rooms, each booking or hold to its owner.
 */
export function routeEvents(changes: AvailabilityChange[], holders: Map<string, string[]>, owners: OwnerUpdate[] = []): RoutedEvent[] {
  const routed: RoutedEvent[] = [];
  for (const { availability, reason, alerts } of changes) {
    const rooms = publicRooms(availability);
    const holderRooms = (holders.get(keyOf(availability)) ?? []).map(userChannel);
    routed.push({ event: { type: 'availability.updated', data: { ...availability, reason } }, channels: [...rooms, ...holderRooms] });
    for (const alert of alerts) routed.push({ event: { type: 'availability.alert', data: alert }, channels: rooms });
  }
  for (const { userId, event } of owners) routed.push({ event, channels: [userChannel(userId)] });
  return routed;
}

import type { HubEvent } from '@slotcast/shared';
import type { HubRooms } from './types.ts';

/**
 * Emits one hub event, narrowed by its type: the event map checks each payload, with no cast.
 * Adding an event type to HubEvent makes this switch fail to compile until it is handled.
 */
export function emitEvent(target: HubRooms, event: HubEvent): void {
  switch (event.type) {
    case 'availability.updated':
      target.emit(event.type, event.data);
      return;
    case 'availability.alert':
      target.emit(event.type, event.data);
      return;
    case 'booking.updated':
      target.emit(event.type, event.data);
      return;
    case 'hold.updated':
      target.emit(event.type, event.data);
      return;
    case 'waitlist.offer':
      target.emit(event.type, event.data);
      return;
    case 'waitlist.updated':
      target.emit(event.type, event.data);
      return;
    default:
      event satisfies never;
  }
}

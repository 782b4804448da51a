import { keyOf, type Alert, type AvailabilityUpdate, type BookingUpdate, type Channel, type HoldUpdate, type SessionAvailability, type WaitlistOffer, type WaitlistUpdate, type WireError } from '@slotcast/shared';
import type { StateChange } from './states.ts';

export interface ChannelHandlers {
  /** The channel's rows after each (re)subscribe, newest versions only. */
  onSnapshot?(rows: SessionAvailability[]): void;
  /** A newer availability for a key in this channel. */
  onUpdate?(update: AvailabilityUpdate): void;
  onAlert?(alert: Alert): void;
  /** User channels: the owner's booking changed. */
  onBooking?(update: BookingUpdate): void;
  /** User channels: one of the owner's holds changed (created, extended, released, expired, confirmed). */
  onHold?(update: HoldUpdate): void;
  /** User channels: places were offered to one of the owner's waitlist entries (a hold to confirm). */
  onOffer?(offer: WaitlistOffer): void;
  /** User channels: one of the owner's waitlist entries changed status. */
  onWaitlist?(update: WaitlistUpdate): void;
  /**
   * The subscribe was refused (INVALID_CHANNEL, FORBIDDEN, NOT_FOUND, …) or not answered in time
   * (ACK_TIMEOUT). RATE_LIMITED, INTERNAL and ACK_TIMEOUT are retried with backoff; the others are final.
   */
  onError?(error: WireError): void;
}

export interface Subscription {
  channel: Channel;
  name: string;
  handlers: Set<ChannelHandlers>;
  /** Keys this channel delivered; user channels match updates by them. */
  keys: Set<string>;
}

export type Events = {
  state: (change: StateChange) => void;
  alert: (alert: Alert) => void;
  booking: (update: BookingUpdate) => void;
  hold: (update: HoldUpdate) => void;
  offer: (offer: WaitlistOffer) => void;
  waitlist: (update: WaitlistUpdate) => void;
};

export function inChannel(subscription: Subscription, a: { sessionId: string; date: string }): boolean {
  const { channel } = subscription;
  switch (channel.kind) {
    case 'global':
      return true;
    case 'date':
      return a.date === channel.date;
    case 'range':
      return a.date >= channel.from && a.date <= channel.to;
    case 'session':
      return a.sessionId === channel.sessionId;
    case 'user':
      return subscription.keys.has(keyOf(a));
  }
}


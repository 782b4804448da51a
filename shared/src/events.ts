import type { Alert, AvailabilityUpdate, BookingUpdate, SessionAvailability } from './availability.ts';
import type { HoldUpdate, WaitlistOffer, WaitlistUpdate } from './holds.ts';
import type { AuthErrorCode, ResyncReason, SubscribeErrorCode, WireError } from './errors.ts';

export const AVAILABILITY_NAMESPACE = '/availability';

export interface SubscribeRequest {
  channel: string;
}

export type SubscribeAck =
  | { ok: true; channel: string; snapshot: SessionAvailability[] }
  | { ok: false; error: WireError<SubscribeErrorCode> };

export type UnsubscribeAck = { ok: true } | { ok: false; error: WireError<SubscribeErrorCode> };

export interface ResyncNotice {
  reason: ResyncReason;
}

/** Replaces the socket's token before it expires; the new one must be for the same user. */
export interface AuthRequest {
  token: string;
}

export type AuthAck = { ok: true; expiresAt?: number } | { ok: false; error: WireError<AuthErrorCode> };

/** What the hub sends, by event name; shared so a misspelt event fails to compile on both sides. */
export interface ServerToClientEvents {
  'availability.updated': (update: AvailabilityUpdate) => void;
  'availability.alert': (alert: Alert) => void;
  'booking.updated': (update: BookingUpdate) => void;
  'hold.updated': (update: HoldUpdate) => void;
  'waitlist.offer': (offer: WaitlistOffer) => void;
  'waitlist.updated': (update: WaitlistUpdate) => void;
  resync: (notice: ResyncNotice) => void;
}

export interface ClientToServerEvents {
  subscribe: (request: SubscribeRequest, ack: (response: SubscribeAck) => void) => void;
  unsubscribe: (request: SubscribeRequest, ack: (response: UnsubscribeAck) => void) => void;
  auth: (request: AuthRequest, ack: (response: AuthAck) => void) => void;
}

/** The tRPC `availability.subscribe` stream carries the same events as `{ type, data }`. */
export type HubEvent =
  | { type: 'availability.updated'; data: AvailabilityUpdate }
  | { type: 'availability.alert'; data: Alert }
  | { type: 'booking.updated'; data: BookingUpdate }
  | { type: 'hold.updated'; data: HoldUpdate }
  | { type: 'waitlist.offer'; data: WaitlistOffer }
  | { type: 'waitlist.updated'; data: WaitlistUpdate };

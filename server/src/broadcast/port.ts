import type { Alert, BookingStatus, Hold, HubEvent, SessionAvailability, UpdateReason, WaitlistEntry } from '@slotcast/shared';

/** One changed key, as the engine hands it on. */
export interface AvailabilityChange {
  availability: SessionAvailability;
  reason: UpdateReason;
  /** Alerts whose condition began with this change. */
  alerts: Alert[];
}

/** A booking document that changed, as the change feed saw it. */
export interface BookingChange {
  bookingId: string;
  userId: string;
  sessionId: string;
  date: string;
  status: BookingStatus;
  quantity: number;
}

/** A hold that changed, as the change feed saw it. */
export interface HoldChange {
  userId: string;
  sessionId: string;
  date: string;
  hold: Hold;
}

/** A waitlist entry whose status changed; `hold` when the change is an offer. */
export interface EntryChange {
  userId: string;
  sessionId: string;
  date: string;
  entry: WaitlistEntry;
  position: number | null;
  hold?: Hold;
}

/** What changed for one user: their booking, hold or waitlist entry. */
export type OwnerChange = ({ kind: 'booking' } & BookingChange) | ({ kind: 'hold' } & HoldChange) | ({ kind: 'entry' } & EntryChange);

/** An owner's event with its key's current availability, for their private channel. */
export interface OwnerUpdate {
  userId: string;
  event: Extract<HubEvent, { type: 'booking.updated' | 'hold.updated' | 'waitlist.offer' | 'waitlist.updated' }>;
}

export interface PublishOptions {
  /**
   * Asked again right before anything leaves the process: a leader paused mid-publish (GC,
   * SIGSTOP) may have lost its lease by the time the slow parts are done.
   */
  mayPublish?: () => boolean;
}

/** The engine's only way out: it says which keys changed and why; delivery is someone else's job. */
export interface Broadcaster {
  publish(changes: AvailabilityChange[], bookings?: OwnerUpdate[], options?: PublishOptions): Promise<void>;
}

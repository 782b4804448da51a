import type { Alert, BookingStatus, Hold, HubEvent, SessionAvailability, UpdateReason } from '@slotcast/shared';

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

/** What changed for one user: their booking or hold. */
export type OwnerChange = ({ kind: 'booking' } & BookingChange) | ({ kind: 'hold' } & HoldChange);

/** An owner's event with its key's current availability, for their private channel. */
export interface OwnerUpdate {
  userId: string;
  event: Extract<HubEvent, { type: 'booking.updated' | 'hold.updated' }>;
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

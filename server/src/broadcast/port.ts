import type { Alert, BookingStatus, BookingUpdate, SessionAvailability, UpdateReason } from '@slotcast/shared';

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

/** A booking change with its key's current availability, for the owner's private channel. */
export interface OwnerUpdate {
  userId: string;
  update: BookingUpdate;
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

import { weekday, type AlertType, type AvailabilityStatus, type IsoDate, type SessionAvailability } from '@slotcast/shared';

/** What the rules need of a `sessions` document. */
export interface SessionInfo {
  id: string;
  name: string;
  startTime: string;
  endTime: string;
  capacity: number;
  daysOfWeek?: number[] | null;
  active: boolean;
}

/** What the rules need of a `session_overrides` document. */
export interface OverrideInfo {
  capacity?: number | null;
  closed?: boolean | null;
}

export type AvailabilityFields = Omit<SessionAvailability, 'version' | 'updatedAt'>;

export function runsOn(session: SessionInfo, date: IsoDate): boolean {
  if (!session.active) return false;
  const days = session.daysOfWeek;
  return !days || days.length === 0 || days.includes(weekday(date));
}

export function capacityOn(session: SessionInfo, override: OverrideInfo | undefined): number {
  if (override?.closed) return 0;
  return override?.capacity ?? session.capacity;
}

export function statusOf(capacity: number, available: number, lowRatio: number): AvailabilityStatus {
  if (capacity === 0) return 'closed';
  if (available === 0) return 'full';
  if (available / capacity <= lowRatio) return 'low';
  return 'available';
}

/** The contract's fields for one session on one date; version and updatedAt come from the store. */
export function availabilityOf(
  session: SessionInfo,
  date: IsoDate,
  override: OverrideInfo | undefined,
  booked: number,
  lowRatio: number,
  held = 0,
): AvailabilityFields {
  const capacity = capacityOn(session, override);
  const available = Math.max(0, capacity - booked - held);
  return {
    sessionId: session.id,
    date,
    name: session.name,
    startTime: session.startTime,
    endTime: session.endTime,
    capacity,
    booked,
    held,
    available,
    utilization: capacity === 0 ? 0 : booked / capacity,
    status: statusOf(capacity, available, lowRatio),
    overbooked: booked + held > capacity,
  };
}

/** Whether two snapshots show the same thing, ignoring version and time. */
export function sameAvailability(a: AvailabilityFields, b: AvailabilityFields): boolean {
  return (
    a.sessionId === b.sessionId &&
    a.date === b.date &&
    a.name === b.name &&
    a.startTime === b.startTime &&
    a.endTime === b.endTime &&
    a.capacity === b.capacity &&
    a.booked === b.booked &&
    a.held === b.held &&
    a.status === b.status
  );
}

/** The capacity alert a snapshot is in, if any; closed sessions raise none. */
export function capacityAlertOf(a: AvailabilityFields, lowRatio: number): Extract<AlertType, 'low_availability' | 'no_availability'> | undefined {
  if (a.capacity === 0) return undefined;
  if (a.available === 0) return 'no_availability';
  if (a.available / a.capacity <= lowRatio) return 'low_availability';
  return undefined;
}

export function byStartTime(a: { startTime: string; name: string }, b: { startTime: string; name: string }): number {
  return a.startTime.localeCompare(b.startTime) || a.name.localeCompare(b.name);
}

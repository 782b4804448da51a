import type { AvailabilityStatus, SessionAvailability } from '@slotcast/shared';

type Shown = Pick<SessionAvailability, 'available' | 'status' | 'utilization'>;

/** "3 places left", "1 place left", "Full", "Closed". */
export function remainingText(a: Shown): string {
  if (a.status === 'closed') return 'Closed';
  if (a.available === 0) return 'Full';
  return `${a.available} ${a.available === 1 ? 'place' : 'places'} left`;
}

/** A CSS class per status, for colouring bars and badges. */
export function statusClass(status: AvailabilityStatus): string {
  return `slot--${status}`;
}

/** The width of a utilization bar, clamped to 0-100% (overbooked sessions show full). */
export function utilizationWidth(a: Shown): string {
  const percent = Math.round(Math.min(1, Math.max(0, a.utilization)) * 100);
  return `${percent}%`;
}

import type { IsoDate } from '@slotcast/shared';

/** Milliseconds that `timeZone`'s wall clock is ahead of UTC at `at`. */
function offsetAt(at: number, timeZone: string): number {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' })
      .formatToParts(new Date(at))
      .map((part) => [part.type, Number(part.value)]),
  ) as Record<string, number>;
  const wall = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  return wall - Math.floor(at / 1000) * 1000;
}

/** The instant a calendar date begins in `timeZone` (its first moment, even where a DST jump skips midnight). */
export function zonedMidnight(date: IsoDate, timeZone: string): Date {
  const utc = Date.parse(`${date}T00:00:00Z`);
  let at = utc - offsetAt(utc, timeZone);
  // A second pass settles dates on which the offset changes between UTC midnight and local midnight.
  at = utc - offsetAt(at, timeZone);
  return new Date(at);
}

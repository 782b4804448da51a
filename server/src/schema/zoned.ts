import { todayIn, type IsoDate } from '@slotcast/shared';

/** No time zone is further than this from UTC (UTC-12 to UTC+14), with a margin. */
const MAX_OFFSET_MS = 15 * 3_600_000;
/** Offsets change on whole seconds, so the search stops at one. */
const STEP_MS = 1_000;

/**
 * The instant a calendar date begins in `timeZone`: the first moment whose date there (as
 * `todayIn` reads an instant, which is how a stored BSON Date is read) is `date` or later. Where
 * a DST jump skips midnight (America/Santiago, spring) that is the jump, not a midnight that never
 * happened; so every instant read as day D lies in [start of D, start of D + 1).
 */
export function zonedMidnight(date: IsoDate, timeZone: string): Date {
  const utc = Date.parse(`${date}T00:00:00Z`);
  const reached = (at: number) => todayIn(timeZone, new Date(at)) >= date;
  // Dates only move forward in time, so a binary search finds the first second of `date`.
  let before = utc - MAX_OFFSET_MS;
  let at = utc + MAX_OFFSET_MS;
  while (at - before > STEP_MS) {
    const middle = before + Math.floor((at - before) / 2 / STEP_MS) * STEP_MS;
    if (reached(middle)) at = middle;
    else before = middle;
  }
  return new Date(at);
}

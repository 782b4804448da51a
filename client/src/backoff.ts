export interface BackoffOptions {
  /** First delay's upper bound, in ms. */
  baseMs: number;
  /** No delay is longer than this. */
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 15_000 };

/**
 * "Full jitter": a random delay between 0 and an exponentially growing cap, so that clients
 * cut off together (a hub restart) do not all come back in the same instant.
 */
export function fullJitter(attempt: number, options: BackoffOptions = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const cap = Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, attempt));
  return Math.floor(random() * cap);
}

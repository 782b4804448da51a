import type { Key, SessionAvailability } from '@slotcast/shared';

/**
 * The things the engine keeps beside MongoDB, each behind its own small port: in process
 * for one instance (memory.ts), in Redis for several (redis.ts). Both pass the contract suites
 * in tests/contract/.
 */

/** The newest snapshot per key, written only by a newer version (a compare-and-set). */
export interface SnapshotCache {
  /** Snapshots by key, undefined where none is held. */
  get(keys: Key[]): Promise<(SessionAvailability | undefined)[]>;
  /** Writes each snapshot unless one with the same or a higher version is there; true where written. */
  put(entries: SessionAvailability[]): Promise<boolean[]>;
  delete(keys: Key[]): Promise<void>;
}

/**
 * Hands out versions. Every version is higher than any handed out before, by any instance, and
 * across restarts (the counter never falls below the clock in microseconds).
 */
export interface VersionCounter {
  /** Reserves `count` consecutive versions and returns the first. */
  reserve(count: number): Promise<number>;
}

/** A number that changes whenever the sessions collection changes, so every instance reloads its list. */
export interface CatalogEpoch {
  current(): Promise<number>;
  bump(): Promise<number>;
}

/** Names marked for a while; alerts use them to fire once per window across instances. */
export interface OnceMarks {
  /** For each name, true the first time it is marked within `ttlMs`. */
  markOnce(names: string[], ttlMs: number): Promise<boolean[]>;
}

/** What the alert rules last evaluated for a key: the capacity alert then in force, whether it was oversold, at which version. */
export interface AlertState {
  version: number;
  alert: 'low_availability' | 'no_availability' | null;
  overbooked: boolean;
}

/** The held state is as new as the one offered or newer: that evaluation came late and begins nothing. */
export const STALE = 'stale';

/**
 * Per key, the state the alert rules last evaluated (and the write side published). "Begins"
 * compares with this, not with the cache: a reader's fill advances the cache without publishing.
 */
export interface AlertStates {
  /**
   * Stores each state unless one of the same or a newer version is held, and returns what was
   * held before: undefined where nothing was, STALE where the offered state is not newer (and
   * was not stored). One key's swaps are atomic, so of two evaluations only one sees a change begin.
   */
  swap(entries: { key: Key; state: AlertState }[], ttlMs: number): Promise<(AlertState | undefined | typeof STALE)[]>;
}

/** Everything the engine stores, chosen together by the composition. */
export interface AvailabilityStores {
  cache: SnapshotCache;
  versions: VersionCounter;
  epoch: CatalogEpoch;
  marks: OnceMarks;
  alertStates: AlertStates;
}

/** Versions start at the clock in microseconds, so a restarted counter still only goes up. */
export const versionFloor = (now = Date.now()): number => now * 1000;

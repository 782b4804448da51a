import type { SessionAvailability } from '@slotcast/shared';

/**
 * Where snapshots and their versions live: in process for one instance, in Redis for several.
 * Both implementations pass tests/contract/store.contract.ts.
 */
export interface AvailabilityStore {
  /**
   * Reserves `count` consecutive versions and returns the first. Every version is higher than
   * any handed out before, by any instance, and across restarts (the counter never falls below
   * the clock in microseconds).
   */
  reserveVersions(count: number): Promise<number>;
  /** Snapshots by `sessionId:date` key, undefined where none is cached. */
  get(keys: string[]): Promise<(SessionAvailability | undefined)[]>;
  /** Writes each snapshot unless one with the same or a higher version is there; true where written. */
  put(entries: SessionAvailability[]): Promise<boolean[]>;
  delete(keys: string[]): Promise<void>;
  /** A number that changes whenever the sessions collection changes. */
  catalogEpoch(): Promise<number>;
  bumpCatalogEpoch(): Promise<number>;
  /** True the first time `name` is marked within `ttlMs` (alerts use it to fire once). */
  markOnce(name: string, ttlMs: number): Promise<boolean>;
}

/** Versions start at the clock in microseconds, so a restarted counter still only goes up. */
export const versionFloor = (now = Date.now()): number => now * 1000;

const ENTRY_LIMIT = 200_000;

export class MemoryStore implements AvailabilityStore {
  private lastVersion = 0;
  private epoch = 0;
  private readonly entries = new Map<string, { value: SessionAvailability; expiresAt: number }>();
  private readonly marks = new Map<string, number>();

  constructor(private readonly ttlMs: number) {}

  async reserveVersions(count: number): Promise<number> {
    const first = Math.max(this.lastVersion + 1, versionFloor());
    this.lastVersion = first + count - 1;
    return first;
  }

  async get(keys: string[]): Promise<(SessionAvailability | undefined)[]> {
    const now = Date.now();
    return keys.map((key) => {
      const entry = this.entries.get(key);
      return entry && entry.expiresAt > now ? entry.value : undefined;
    });
  }

  async put(values: SessionAvailability[]): Promise<boolean[]> {
    const now = Date.now();
    return values.map((value) => {
      const key = `${value.sessionId}:${value.date}`;
      const current = this.entries.get(key);
      if (current && current.expiresAt > now && current.value.version >= value.version) return false;
      this.entries.delete(key);
      this.entries.set(key, { value, expiresAt: now + this.ttlMs });
      // Oldest-written first in a Map: bounded memory without a separate LRU.
      if (this.entries.size > ENTRY_LIMIT) this.entries.delete(this.entries.keys().next().value!);
      return true;
    });
  }

  async delete(keys: string[]): Promise<void> {
    for (const key of keys) this.entries.delete(key);
  }

  async catalogEpoch(): Promise<number> {
    return this.epoch;
  }

  async bumpCatalogEpoch(): Promise<number> {
    this.epoch += 1;
    return this.epoch;
  }

  async markOnce(name: string, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    const until = this.marks.get(name);
    if (until !== undefined && until > now) return false;
    this.marks.set(name, now + ttlMs);
    if (this.marks.size > ENTRY_LIMIT) {
      for (const [mark, expires] of this.marks) if (expires <= now) this.marks.delete(mark);
    }
    return true;
  }
}

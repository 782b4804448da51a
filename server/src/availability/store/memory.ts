import { keyOf, type Key, type SessionAvailability } from '@slotcast/shared';
import { STALE, versionFloor, type AlertState, type AlertStates, type AvailabilityStores, type CatalogEpoch, type OnceMarks, type SnapshotCache, type VersionCounter } from './ports.ts';

/** Bounds each in-process map: the oldest written entries go first. */
const ENTRY_LIMIT = 200_000;

export class MemorySnapshotCache implements SnapshotCache {
  private readonly entries = new Map<string, { value: SessionAvailability; expiresAt: number }>();

  constructor(private readonly ttlMs: number) {}

  async get(keys: Key[]): Promise<(SessionAvailability | undefined)[]> {
    const now = Date.now();
    return keys.map((key) => {
      const entry = this.entries.get(keyOf(key));
      return entry && entry.expiresAt > now ? entry.value : undefined;
    });
  }

  async put(values: SessionAvailability[]): Promise<boolean[]> {
    const now = Date.now();
    return values.map((value) => {
      const key = keyOf(value);
      const current = this.entries.get(key);
      if (current && current.expiresAt > now && current.value.version >= value.version) return false;
      this.entries.delete(key);
      this.entries.set(key, { value, expiresAt: now + this.ttlMs });
      // Oldest-written first in a Map: bounded memory without a separate LRU.
      if (this.entries.size > ENTRY_LIMIT) this.entries.delete(this.entries.keys().next().value!);
      return true;
    });
  }

  async delete(keys: Key[]): Promise<void> {
    for (const key of keys) this.entries.delete(keyOf(key));
  }
}

export class MemoryVersionCounter implements VersionCounter {
  private last = 0;

  async reserve(count: number): Promise<number> {
    const first = Math.max(this.last + 1, versionFloor());
    this.last = first + count - 1;
    return first;
  }
}

export class MemoryCatalogEpoch implements CatalogEpoch {
  private epoch = 0;

  async current(): Promise<number> {
    return this.epoch;
  }

  async bump(): Promise<number> {
    this.epoch += 1;
    return this.epoch;
  }
}

export class MemoryOnceMarks implements OnceMarks {
  private readonly marks = new Map<string, number>();

  async markOnce(names: string[], ttlMs: number): Promise<boolean[]> {
    const now = Date.now();
    const marked = names.map((name) => {
      const until = this.marks.get(name);
      if (until !== undefined && until > now) return false;
      this.marks.set(name, now + ttlMs);
      return true;
    });
    if (this.marks.size > ENTRY_LIMIT) {
      for (const [mark, expires] of this.marks) if (expires <= now) this.marks.delete(mark);
    }
    return marked;
  }
}

export class MemoryAlertStates implements AlertStates {
  private readonly states = new Map<string, { state: AlertState; expiresAt: number }>();

  async swap(entries: { key: Key; state: AlertState }[], ttlMs: number): Promise<(AlertState | undefined | typeof STALE)[]> {
    const now = Date.now();
    return entries.map(({ key, state }) => {
      const id = keyOf(key);
      const entry = this.states.get(id);
      const held = entry && entry.expiresAt > now ? entry.state : undefined;
      if (held && held.version >= state.version) return STALE;
      this.states.delete(id);
      this.states.set(id, { state, expiresAt: now + ttlMs });
      if (this.states.size > ENTRY_LIMIT) this.states.delete(this.states.keys().next().value!);
      return held;
    });
  }
}

/** One instance's stores, all in process. */
export function memoryStores(cacheTtlMs: number): AvailabilityStores {
  return {
    cache: new MemorySnapshotCache(cacheTtlMs),
    versions: new MemoryVersionCounter(),
    epoch: new MemoryCatalogEpoch(),
    marks: new MemoryOnceMarks(),
    alertStates: new MemoryAlertStates(),
  };
}

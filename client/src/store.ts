import { keyOf, type SessionAvailability } from '@slotcast/shared';

export interface StoreChange {
  availability: SessionAvailability;
  previous: SessionAvailability | undefined;
}

type Listener = (change: StoreChange) => void;

/**
 * The newest known availability per (session, date). Anything not newer than what is held is
 * ignored, so deliveries that arrive late, twice, or from a snapshot after an update, cannot
 * move a key backwards. Framework-free: read it, and listen to it.
 */
export class AvailabilityStore {
  private readonly rows = new Map<string, SessionAvailability>();
  private readonly listeners = new Set<Listener>();

  /** Keeps `availability` if it is newer than what is held; true when it was kept. */
  apply(availability: SessionAvailability): boolean {
    const key = keyOf(availability);
    const previous = this.rows.get(key);
    if (previous && previous.version >= availability.version) return false;
    this.rows.set(key, availability);
    for (const listener of this.listeners) listener({ availability, previous });
    return true;
  }

  get(sessionId: string, date: string): SessionAvailability | undefined {
    return this.rows.get(keyOf({ sessionId, date }));
  }

  /** One date's sessions by start time; closed ones included. */
  byDate(date: string): SessionAvailability[] {
    return [...this.rows.values()]
      .filter((row) => row.date === date)
      .sort((a, b) => a.startTime.localeCompare(b.startTime) || a.name.localeCompare(b.name));
  }

  get size(): number {
    return this.rows.size;
  }

  /** Calls `listener` on every kept change; returns a function that stops it. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

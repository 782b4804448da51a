import type { Key, SessionAvailability } from '@slotcast/shared';
import type { SnapshotCache } from '../../server/src/availability/store/ports.ts';

/** A snapshot cache that holds nothing: every read recomputes from MongoDB (the uncached baseline). */
export class NoSnapshotCache implements SnapshotCache {
  async get(keys: Key[]): Promise<(SessionAvailability | undefined)[]> {
    return keys.map(() => undefined);
  }

  async put(entries: SessionAvailability[]): Promise<boolean[]> {
    return entries.map(() => true);
  }

  async delete(): Promise<void> {}
}

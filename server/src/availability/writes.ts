import { addDays, keyOf, uniqueKeys, type IsoDate, type Key, type RefreshResult, type SessionAvailability, type UpdateReason } from '@slotcast/shared';
import type { AvailabilityChange, Broadcaster, OwnerChange, OwnerUpdate, PublishOptions } from '../broadcast/port.ts';
import type { AlertRules } from './alerts.ts';
import type { SessionCatalog } from './catalog.ts';
import { BATCH, type VersionedCompute } from './compute.ts';
import { sameAvailability } from './rules.ts';
import type { SnapshotCache } from './store/ports.ts';

export interface WriteSideParts {
  catalog: SessionCatalog;
  compute: VersionedCompute;
  cache: SnapshotCache;
  alerts: AlertRules;
  broadcaster: Broadcaster;
  today: () => IsoDate;
}

export interface RecomputeOptions extends PublishOptions {
  /** A refresh publishes every key, changed or not (after events may have been lost). */
  announceAll?: boolean;
}

export interface RefreshScope {
  from?: IsoDate;
  to?: IsoDate;
  sessionId?: string;
}

/** A recompute whose write lost to a newer row tries again this often before leaving the key to the next change. */
const LOST_WRITE_RETRIES = 3;

/**
 * The write side: what the change feed (and a refresh) calls after MongoDB changed. It
 * recomputes keys with fresh versions, stores them, and publishes through the broadcaster; it is
 * the only part of the engine that publishes.
 */
export class AvailabilityWrites {
  constructor(private readonly parts: WriteSideParts) {}

  /**
   * Recomputes keys and stores them. After a change (a booking, session or override event)
   * every running key is published, even when the cache already held the same numbers: a reader
   * may have filled the cache after the write, or a former leader written it without publishing,
   * while clients still hold an older version. A refresh publishes only what differs from the
   * cache unless `announceAll`. A key whose session no longer runs is published once as closed
   * and dropped. Where a newer row won the compare-and-set, the key is recomputed again with a
   * newer version: republishing the winner could hand sockets a version twice.
   */
  async recompute(keys: Key[], reason: UpdateReason, owners: OwnerChange[] = [], options: RecomputeOptions = {}): Promise<AvailabilityChange[]> {
    // refresh() says so once for its whole scope; a session change says so here, once.
    if (reason === 'session') await this.parts.catalog.changed();
    return this.attempt(uniqueKeys(keys), reason, owners, options, 0);
  }

  private async attempt(keys: Key[], reason: UpdateReason, owners: OwnerChange[], options: RecomputeOptions, attempt: number): Promise<AvailabilityChange[]> {
    const { alerts, cache, compute, broadcaster } = this.parts;
    // Independent reads, side by side: they sit between a write and its broadcast.
    const [previous, computed, recent] = await Promise.all([
      cache.get(keys),
      compute.compute(keys),
      reason === 'booking' ? alerts.recentBookingsOf(keys) : new Map<string, number>(),
    ]);
    // Checked after the versions were reserved: a leader paused in between must not cache rows
    // numbered after its successor's (they would win over the successor's writes unpublished).
    if (options.mayPublish && !options.mayPublish()) return [];
    const running = computed.filter((row) => row.runs).map((row) => row.next);
    const written = await cache.put(running);
    await cache.delete(computed.filter((row) => !row.runs).map((row) => row.key));

    const lost = new Set(running.filter((_, i) => !written[i]).map(keyOf));
    const isLost = (key: Key) => lost.has(keyOf(key));
    const retried =
      lost.size > 0 && attempt < LOST_WRITE_RETRIES
        ? await this.attempt(keys.filter(isLost), reason, owners.filter(isLost), options, attempt + 1)
        : [];

    const compare = reason === 'refresh' && !options.announceAll;
    const changed = computed.flatMap(({ key, next, runs }, i) => {
      const before = previous[i];
      if (isLost(key) || (!before && !runs)) return [];
      if (compare && before && runs && sameAvailability(before, next)) return [];
      return [{ before, next, recent: recent.get(keyOf(next)) ?? 0 }];
    });
    const begun = await alerts.begun(changed);
    const changes: AvailabilityChange[] = changed.map(({ next }, i) => ({ availability: next, reason, alerts: begun[i]! }));
    // Owners hear about their booking or hold with the key's current availability, whether or not the numbers moved.
    const current = new Map(computed.filter(({ key }) => !isLost(key)).map(({ next }) => [keyOf(next), next]));
    const updates = owners.flatMap((owner): OwnerUpdate[] => {
      const availability = current.get(keyOf(owner));
      return availability ? ownerUpdates(owner, availability) : [];
    });
    if ((changes.length > 0 || updates.length > 0) && (options.mayPublish?.() ?? true)) {
      await broadcaster.publish(changes, updates, { mayPublish: options.mayPublish });
    }
    return [...retried, ...changes];
  }

  /** Recomputes a scope from MongoDB, overwrites the cache and publishes what changed. */
  async refresh(scope: RefreshScope, options: RecomputeOptions = {}): Promise<RefreshResult> {
    const { catalog } = this.parts;
    if (scope.sessionId) await catalog.require(scope.sessionId);
    await catalog.changed();
    const from = scope.from ?? this.parts.today();
    const to = scope.to ?? addDays(from, 6);
    const keys = await catalog.keysIn({ from, to, sessionIds: scope.sessionId ? [scope.sessionId] : undefined });
    let broadcast = 0;
    for (let i = 0; i < keys.length; i += BATCH) {
      broadcast += (await this.recompute(keys.slice(i, i + BATCH), 'refresh', [], options)).length;
    }
    return { recomputed: keys.length, broadcast };
  }
}

function ownerUpdates(owner: OwnerChange, availability: SessionAvailability): OwnerUpdate[] {
  const { userId } = owner;
  switch (owner.kind) {
    case 'hold':
      return [{ userId, event: { type: 'hold.updated', data: { hold: owner.hold, availability } } }];
    case 'entry': {
      // The offer is announced from its hold's event; the entry's own event says its status changed.
      const { entry, position, hold } = owner;
      if (hold) return [{ userId, event: { type: 'waitlist.offer', data: { entry, hold, availability } } }];
      return [{ userId, event: { type: 'waitlist.updated', data: { entry, position } } }];
    }
    case 'booking': {
      const { bookingId, sessionId, date, status, quantity } = owner;
      return [{ userId, event: { type: 'booking.updated', data: { bookingId, sessionId, date, status, quantity, availability } } }];
    }
  }
}

import {
  addDays,
  datesInRange,
  keyOf,
  todayIn,
  type Alert,
  type Channel,
  type DateAvailability,
  type IsoDate,
  type Key,
  type SessionAvailability,
} from '@slotcast/shared';
import type { Metrics } from '../observability/metrics.ts';
import type { AlertRules } from './alerts.ts';
import type { SessionCatalog } from './catalog.ts';
import type { VersionedCompute } from './compute.ts';
import { NotFoundError } from './errors.ts';
import type { AvailabilityReader, Scope } from './reader.ts';
import { byStartTime, runsOn, type SessionInfo } from './rules.ts';
import type { SnapshotCache } from './store/ports.ts';

export interface ReadSideParts {
  catalog: SessionCatalog;
  compute: VersionedCompute;
  cache: SnapshotCache;
  reader: AvailabilityReader;
  alerts: AlertRules;
  timeZone: string;
  metrics?: Metrics;
}

/**
 * The read side: what the API and the Socket.IO hub ask for. Reads go through the cache; a miss
 * is recomputed once however many readers wait for it (single flight) and cached without being
 * published: publishing is the write side's job alone.
 */
export class AvailabilityReads {
  /** Misses being filled, by key: concurrent readers of a missing key wait for one recompute. */
  private readonly filling = new Map<string, Promise<SessionAvailability>>();
  /** Recomputes not yet started, by key: every caller that asks before one starts shares it. */
  private readonly nextFresh = new Map<string, Promise<SessionAvailability>>();

  constructor(private readonly parts: ReadSideParts) {}

  today(): IsoDate {
    return todayIn(this.parts.timeZone);
  }

  async byDate(date: IsoDate): Promise<SessionAvailability[]> {
    return (await this.snapshots({ from: date, to: date })).sort(byStartTime);
  }

  async byDateRange(from: IsoDate, to: IsoDate, sessionId?: string): Promise<DateAvailability<SessionAvailability>[]> {
    if (sessionId) await this.requireSession(sessionId);
    const rows = await this.snapshots({ from, to, sessionIds: sessionId ? [sessionId] : undefined });
    return datesInRange(from, to).map((date) => ({
      date,
      sessions: rows.filter((row) => row.date === date).sort(byStartTime),
    }));
  }

  async bySession(sessionId: string, date: IsoDate): Promise<SessionAvailability> {
    const session = await this.requireSession(sessionId);
    if (!runsOn(session, date)) throw new NotFoundError(`session ${sessionId} does not run on ${date}`);
    const [row] = await this.snapshots({ from: date, to: date, sessionIds: [session.id] });
    return row!;
  }

  /** A session's availability today and over the next `days - 1` days (the session channel's snapshot). */
  async sessionWeek(sessionId: string, days = 7): Promise<SessionAvailability[]> {
    const session = await this.requireSession(sessionId);
    const today = this.today();
    return (await this.snapshots({ from: today, to: addDays(today, days - 1), sessionIds: [session.id] })).sort(
      (a, b) => a.date.localeCompare(b.date),
    );
  }

  /** Snapshots of given keys that run (for a user's bookings); keys that do not run are left out. */
  async byKeys(keys: Key[]): Promise<SessionAvailability[]> {
    const { byId } = await this.parts.catalog.current();
    return this.read(keys.filter((key) => {
      const session = byId.get(key.sessionId);
      return session && runsOn(session, key.date);
    }));
  }

  /** What a subscriber to `channel` sees first (the contract's snapshot column). */
  async snapshotOf(channel: Channel): Promise<SessionAvailability[]> {
    switch (channel.kind) {
      case 'global':
        return this.byDate(this.today());
      case 'date':
        return this.byDate(channel.date);
      case 'range':
        return (await this.snapshots({ from: channel.from, to: channel.to })).sort((a, b) => a.date.localeCompare(b.date) || byStartTime(a, b));
      case 'session':
        return this.sessionWeek(channel.sessionId);
      case 'user':
        return this.byKeys(await this.parts.reader.upcomingKeysOf(channel.userId, this.today()));
    }
  }

  requireSession(sessionId: string): Promise<SessionInfo> {
    return this.parts.catalog.require(sessionId);
  }

  keysIn(scope: Scope): Promise<Key[]> {
    return this.parts.catalog.keysIn(scope);
  }

  /** Every running (session, date) in scope, from the cache where it holds them. */
  async snapshots(scope: Scope): Promise<SessionAvailability[]> {
    return this.read(await this.keysIn(scope));
  }

  /** Alerts in force over a range: capacity conditions now, and high demand in the current window. */
  async alerts(from: IsoDate, to: IsoDate): Promise<Alert[]> {
    return this.parts.alerts.inForce(await this.snapshots({ from, to }), from, to);
  }

  /**
   * A key as MongoDB has it after the caller's own write (a guarded write answers with it):
   * recomputed by a read that starts after this call, shared by every caller waiting for the
   * same key meanwhile, cached and left to the write side to publish.
   */
  fresh(key: Key): Promise<SessionAvailability> {
    const id = keyOf(key);
    let next = this.nextFresh.get(id);
    if (!next) {
      next = Promise.resolve().then(async () => {
        this.nextFresh.delete(id);
        const [row] = await this.fill([{ sessionId: key.sessionId, date: key.date }]);
        return row!;
      });
      this.nextFresh.set(id, next);
    }
    return next;
  }

  private async read(keys: Key[]): Promise<SessionAvailability[]> {
    const { cache, metrics } = this.parts;
    const cached = await cache.get(keys);
    const missing = keys.filter((_, i) => !cached[i]);
    metrics?.cacheLookups.inc({ result: 'hit' }, keys.length - missing.length);
    metrics?.cacheLookups.inc({ result: 'miss' }, missing.length);
    if (missing.length === 0) return cached as SessionAvailability[];
    const fresh = missing.filter((key) => !this.filling.has(keyOf(key)));
    if (fresh.length > 0) {
      const batch = this.fill(fresh);
      fresh.forEach((key, i) => {
        const id = keyOf(key);
        const one = batch.then((rows) => rows[i]!);
        this.filling.set(id, one);
        // Readers of `one` see its failure; this branch only forgets the key either way.
        one.then(
          () => this.filling.delete(id),
          () => this.filling.delete(id),
        );
      });
    }
    const filled = await Promise.all(missing.map((key) => this.filling.get(keyOf(key))!));
    const byKey = new Map(filled.map((row) => [keyOf(row), row]));
    return keys.map((key, i) => cached[i] ?? byKey.get(keyOf(key))!);
  }

  /** Recomputes and caches missing keys; where another writer got a newer version in first, that one wins. */
  private async fill(keys: Key[]): Promise<SessionAvailability[]> {
    const { cache, compute } = this.parts;
    const rows = (await compute.compute(keys)).map(({ next }) => next);
    const written = await cache.put(rows);
    const lost = rows.filter((_, i) => !written[i]);
    if (lost.length === 0) return rows;
    const newer = new Map(
      (await cache.get(lost))
        .filter((row): row is SessionAvailability => row !== undefined)
        .map((row) => [keyOf(row), row]),
    );
    return rows.map((row) => newer.get(keyOf(row)) ?? row);
  }
}

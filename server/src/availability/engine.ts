import {
  addDays,
  datesInRange,
  todayIn,
  type Alert,
  type Channel,
  type DateAvailability,
  type IsoDate,
  type SessionAvailability,
  type UpdateReason,
} from '@slotcast/shared';
import type { Broadcaster, AvailabilityChange, BookingChange } from '../broadcast/port.ts';
import type { Metrics } from '../observability/metrics.ts';
import { NotFoundError } from './errors.ts';
import { AlertRules } from './alerts.ts';
import type { AvailabilityReader, Scope } from './reader.ts';
import {
  availabilityOf,
  byStartTime,
  keyOf,
  runsOn,
  sameAvailability,
  type AvailabilityFields,
  type SessionInfo,
} from './rules.ts';
import type { AvailabilityStore } from './store.ts';

export interface EngineOptions {
  lowRatio: number;
  highDemandBookings: number;
  highDemandWindowMs: number;
  timeZone: string;
  /** false: every read recomputes from MongoDB (the benchmark's baseline). */
  useCache: boolean;
}

export interface Key {
  sessionId: string;
  date: IsoDate;
}

interface Catalog {
  epoch: number;
  sessions: SessionInfo[];
  byId: Map<string, SessionInfo>;
}

export interface PublishScope {
  /** The leader's fence: false once this instance may no longer write or publish. */
  mayPublish?: () => boolean;
  /** A refresh publishes every key, changed or not (after events may have been lost). */
  announceAll?: boolean;
}

/** A recompute whose write lost to a newer row tries again this often before leaving the key to the next change. */
const LOST_WRITE_RETRIES = 3;

/** Reloads of the sessions list for an id it lacks happen at most this often. */
const MISS_RELOAD_INTERVAL_MS = 1_000;

/** Keys per recompute batch: bounds one aggregation's $in list and one Redis pipeline. */
const BATCH = 500;

/**
 * Availability per (session, date): reads go through the store, misses and changes recompute
 * from MongoDB with a version taken before the read, and changes go out through the broadcaster.
 */
export class AvailabilityEngine {
  private catalog: Catalog | undefined;
  private loading: Promise<Catalog> | undefined;
  private epochRead: Promise<number> | undefined;
  private missReload: Promise<Catalog> | undefined;
  private lastMissReload = -Infinity;
  /** Misses being filled, by key: concurrent readers of a missing key wait for one recompute. */
  private readonly filling = new Map<string, Promise<SessionAvailability>>();
  private readonly alertRules: AlertRules;

  constructor(
    private readonly reader: AvailabilityReader,
    private readonly store: AvailabilityStore,
    private readonly broadcaster: Broadcaster,
    private readonly options: EngineOptions,
    private readonly metrics?: Metrics,
  ) {
    this.alertRules = new AlertRules(reader, store, options);
  }

  today(): IsoDate {
    return todayIn(this.options.timeZone);
  }

  /** The sessions list, reloaded when any instance has seen the sessions collection change. */
  async sessions(): Promise<Catalog> {
    // Requests that arrive while an epoch read is on its way share it: one round trip per burst, not per request.
    this.epochRead ??= this.store.catalogEpoch().finally(() => {
      this.epochRead = undefined;
    });
    const epoch = await this.epochRead;
    if (this.catalog?.epoch === epoch) return this.catalog;
    this.loading ??= this.reader
      .sessions()
      .then((sessions) => {
        this.catalog = catalogOf(epoch, sessions);
        return this.catalog;
      })
      .finally(() => {
        this.loading = undefined;
      });
    return this.loading;
  }

  /** Call when sessions changed: every instance reloads its list on its next read. */
  async sessionsChanged(): Promise<void> {
    await this.store.bumpCatalogEpoch();
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
    const { byId } = await this.sessions();
    const running = keys.filter((key) => {
      const session = byId.get(key.sessionId);
      return session && runsOn(session, key.date);
    });
    return this.read(running);
  }

  /** What a subscriber to `channel` sees first (the contract's snapshot column). */
  async snapshotOf(channel: Channel): Promise<SessionAvailability[]> {
    switch (channel.kind) {
      case 'global':
        return this.byDate(this.today());
      case 'date':
        return this.byDate(channel.date);
      case 'session':
        return this.sessionWeek(channel.sessionId);
      case 'user':
        return this.byKeys(await this.reader.upcomingKeysOf(channel.userId, this.today()));
    }
  }

  /**
   * A session by id. An id the cached list lacks is looked up once more in MongoDB (at most one
   * such reload per second, whatever ids are asked for): a session inserted a moment ago exists
   * before the change feed has told the instances so.
   */
  async requireSession(sessionId: string): Promise<SessionInfo> {
    const session = (await this.sessions()).byId.get(sessionId) ?? (await this.reloadForMiss())?.byId.get(sessionId);
    if (!session) throw new NotFoundError(`no session ${sessionId}`);
    return session;
  }

  private async reloadForMiss(): Promise<Catalog | undefined> {
    if (!this.missReload) {
      if (performance.now() - this.lastMissReload < MISS_RELOAD_INTERVAL_MS) return undefined;
      this.lastMissReload = performance.now();
      this.missReload = (async () => {
        const epoch = await this.store.catalogEpoch();
        const sessions = await this.reader.sessions();
        // Newer than anything cached under this epoch, so later reads under it use it too.
        if (!this.catalog || this.catalog.epoch <= epoch) this.catalog = catalogOf(epoch, sessions);
        return this.catalog;
      })().finally(() => {
        this.missReload = undefined;
      });
    }
    return this.missReload;
  }

  /** Every running (session, date) in scope, from the cache where it holds them. */
  async snapshots(scope: Scope): Promise<SessionAvailability[]> {
    return this.read(await this.keysIn(scope));
  }

  async keysIn(scope: Scope): Promise<Key[]> {
    const { sessions } = await this.sessions();
    const chosen = scope.sessionIds ? sessions.filter((s) => scope.sessionIds!.includes(s.id)) : sessions;
    return datesInRange(scope.from, scope.to).flatMap((date) =>
      chosen.filter((session) => runsOn(session, date)).map((session) => ({ sessionId: session.id, date })),
    );
  }

  private async read(keys: Key[]): Promise<SessionAvailability[]> {
    if (!this.options.useCache) return (await this.compute(keys)).map(({ next }) => next);
    const cached = await this.store.get(keys.map((key) => keyOf(key.sessionId, key.date)));
    const missing = keys.filter((_, i) => !cached[i]);
    this.metrics?.cacheLookups.inc({ result: 'hit' }, keys.length - missing.length);
    this.metrics?.cacheLookups.inc({ result: 'miss' }, missing.length);
    if (missing.length === 0) return cached as SessionAvailability[];
    const fresh = missing.filter((key) => !this.filling.has(keyOf(key.sessionId, key.date)));
    if (fresh.length > 0) {
      const batch = this.fill(fresh);
      fresh.forEach((key, i) => {
        const id = keyOf(key.sessionId, key.date);
        const one = batch.then((rows) => rows[i]!);
        this.filling.set(id, one);
        // Readers of `one` see its failure; this branch only forgets the key either way.
        one.then(
          () => this.filling.delete(id),
          () => this.filling.delete(id),
        );
      });
    }
    const filled = await Promise.all(missing.map((key) => this.filling.get(keyOf(key.sessionId, key.date))!));
    const byKey = new Map(filled.map((row) => [keyOf(row.sessionId, row.date), row]));
    return keys.map((key, i) => cached[i] ?? byKey.get(keyOf(key.sessionId, key.date))!);
  }

  /** Recomputes and caches missing keys; where another writer got a newer version in first, that one wins. */
  private async fill(keys: Key[]): Promise<SessionAvailability[]> {
    const rows = (await this.compute(keys)).map(({ next }) => next);
    const written = await this.store.put(rows);
    const lost = rows.filter((_, i) => !written[i]);
    if (lost.length === 0) return rows;
    const newer = new Map(
      (await this.store.get(lost.map((row) => keyOf(row.sessionId, row.date))))
        .filter((row): row is SessionAvailability => row !== undefined)
        .map((row) => [keyOf(row.sessionId, row.date), row]),
    );
    return rows.map((row) => newer.get(keyOf(row.sessionId, row.date)) ?? row);
  }

  /**
   * Reads MongoDB for the keys, with versions reserved before the read: a later change always
   * gets a higher version than a read that could not have seen it.
   */
  private async compute(keys: Key[]): Promise<{ key: Key; next: SessionAvailability; runs: boolean }[]> {
    if (keys.length === 0) return [];
    const stop = this.metrics?.recomputeSeconds.startTimer({ scope: keys.length === 1 ? 'key' : 'batch' });
    const out: { key: Key; next: SessionAvailability; runs: boolean }[] = [];
    for (let i = 0; i < keys.length; i += BATCH) {
      const batch = keys.slice(i, i + BATCH);
      const first = await this.store.reserveVersions(batch.length);
      const dates = batch.map((key) => key.date).sort();
      const scope = { from: dates[0]!, to: dates.at(-1)!, sessionIds: [...new Set(batch.map((key) => key.sessionId))] };
      const [{ byId }, overrides, booked] = await Promise.all([
        this.sessions(),
        this.reader.overrides(scope),
        this.reader.booked(scope),
      ]);
      const updatedAt = new Date().toISOString();
      batch.forEach((key, j) => {
        const id = keyOf(key.sessionId, key.date);
        const session = byId.get(key.sessionId);
        const runs = session !== undefined && runsOn(session, key.date);
        const fields: AvailabilityFields = session
          ? availabilityOf(session, key.date, runs ? overrides.get(id) : { closed: true }, booked.get(id) ?? 0, this.options.lowRatio)
          : gone(key);
        out.push({ key, runs, next: { ...fields, version: first + j, updatedAt } });
      });
    }
    stop?.();
    return out;
  }

  /**
   * Recomputes keys and stores them. After a change (a booking, session or override event)
   * every running key is published, even when the cache already held the same numbers: a reader
   * may have filled the cache after the write, or a former leader written it without publishing,
   * while clients still hold an older version. A refresh publishes only what differs from the
   * cache unless `announceAll`. A key whose session no longer runs is published once as closed
   * and dropped. Where a newer row won the compare-and-set, the key is recomputed again with a
   * newer version: republishing the winner could hand sockets a version twice.
   */
  async recompute(keys: Key[], reason: UpdateReason, bookings: BookingChange[] = [], options: PublishScope = {}, attempt = 0): Promise<AvailabilityChange[]> {
    const unique = [...new Map(keys.map((key) => [keyOf(key.sessionId, key.date), key])).values()];
    // refresh() says so once for its whole scope; a session change says so here.
    if (reason === 'session' && attempt === 0) await this.sessionsChanged();
    // Independent reads, side by side: they sit between a write and its broadcast.
    const [previous, computed, recent] = await Promise.all([
      this.store.get(unique.map((key) => keyOf(key.sessionId, key.date))),
      this.compute(unique),
      reason === 'booking' ? this.alertRules.recentBookingsOf(unique) : new Map<string, number>(),
    ]);
    // Checked after the versions were reserved: a leader paused in between must not cache rows
    // numbered after its successor's (they would win over the successor's writes unpublished).
    if (options.mayPublish && !options.mayPublish()) return [];
    const running = computed.filter((row) => row.runs).map((row) => row.next);
    const written = await this.store.put(running);
    await this.store.delete(computed.filter((row) => !row.runs).map((row) => keyOf(row.key.sessionId, row.key.date)));

    const lost = new Set(running.filter((_, i) => !written[i]).map((row) => keyOf(row.sessionId, row.date)));
    const isLost = (key: Key) => lost.has(keyOf(key.sessionId, key.date));
    const retried =
      lost.size > 0 && attempt < LOST_WRITE_RETRIES
        ? await this.recompute(unique.filter(isLost), reason, bookings.filter(isLost), options, attempt + 1)
        : [];

    const compare = reason === 'refresh' && !options.announceAll;
    const changed = computed.flatMap(({ key, next, runs }, i) => {
      const before = previous[i];
      if (isLost(key) || (!before && !runs)) return [];
      if (compare && before && runs && sameAvailability(before, next)) return [];
      return [{ before, next }];
    });
    const changes: AvailabilityChange[] = [];
    for (const { before, next } of changed) {
      changes.push({ availability: next, reason, alerts: await this.alertRules.begun(before, next, recent.get(keyOf(next.sessionId, next.date)) ?? 0) });
    }
    // Owners hear about their booking with the key's current availability, whether or not the numbers moved.
    const current = new Map(computed.filter(({ key }) => !isLost(key)).map(({ next }) => [keyOf(next.sessionId, next.date), next]));
    const owners = bookings.flatMap(({ userId, sessionId, date, ...booking }) => {
      const availability = current.get(keyOf(sessionId, date));
      return availability ? [{ userId, update: { ...booking, sessionId, date, availability } }] : [];
    });
    if ((changes.length > 0 || owners.length > 0) && (options.mayPublish?.() ?? true)) {
      await this.broadcaster.publish(changes, owners, options);
    }
    return [...retried, ...changes];
  }

  /** Recomputes a scope from MongoDB, overwrites the cache and publishes what changed. */
  async refresh(scope: { from?: IsoDate; to?: IsoDate; sessionId?: string }, options: PublishScope = {}): Promise<{ recomputed: number; broadcast: number }> {
    if (scope.sessionId) await this.requireSession(scope.sessionId);
    await this.sessionsChanged();
    const from = scope.from ?? this.today();
    const to = scope.to ?? addDays(from, 6);
    const keys = await this.keysIn({ from, to, sessionIds: scope.sessionId ? [scope.sessionId] : undefined });
    let broadcast = 0;
    for (let i = 0; i < keys.length; i += BATCH) {
      broadcast += (await this.recompute(keys.slice(i, i + BATCH), 'refresh', [], options)).length;
    }
    return { recomputed: keys.length, broadcast };
  }

  /** Alerts in force over a range: capacity conditions now, and high demand in the current window. */
  async alerts(from: IsoDate, to: IsoDate): Promise<Alert[]> {
    return this.alertRules.inForce(await this.snapshots({ from, to }), from, to);
  }
}

function catalogOf(epoch: number, sessions: SessionInfo[]): Catalog {
  return { epoch, sessions, byId: new Map(sessions.map((s) => [s.id, s])) };
}

/** What a deleted session looks like to clients that held it: closed, no capacity. */
function gone(key: Key): AvailabilityFields {
  return {
    sessionId: key.sessionId,
    date: key.date,
    name: '',
    startTime: '00:00',
    endTime: '00:00',
    capacity: 0,
    booked: 0,
    available: 0,
    utilization: 0,
    status: 'closed',
    overbooked: false,
  };
}

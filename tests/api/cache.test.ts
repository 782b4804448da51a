import { beforeAll, describe, expect, it } from 'vitest';
import { Types } from 'mongoose';
import { SAT, SUN, MON, id, ids, writeFixture } from '../support/fixture.ts';
import { RecordingBroadcaster, startTestHub, type TestHub } from '../support/hub.ts';
import type { SessionAvailability } from '@slotcast/shared';
import { AvailabilityReader } from '../../server/src/availability/reader.ts';
import { SessionCatalog } from '../../server/src/availability/catalog.ts';
import { VersionedCompute } from '../../server/src/availability/compute.ts';
import { AlertRules } from '../../server/src/availability/alerts.ts';
import { AvailabilityReads } from '../../server/src/availability/reads.ts';
import { AvailabilityWrites } from '../../server/src/availability/writes.ts';
import { MemoryAlertStates, MemoryCatalogEpoch, MemoryOnceMarks, MemorySnapshotCache, MemoryVersionCounter } from '../../server/src/availability/store/memory.ts';
import { NoSnapshotCache } from '../support/seams.ts';
import { testDatabaseUri } from '../support/database.ts';

let a: TestHub;
let b: TestHub;
let memory: TestHub;
let uncached: TestHub;

beforeAll(async () => {
  const mongoUri = testDatabaseUri();
  // These tests drive the engine by hand, so no change feed runs.
  const seams = { changeFeed: false };
  a = await startTestHub({ redis: true, mongoUri, seams });
  b = await startTestHub({ redis: true, mongoUri, seams, env: { REDIS_KEY_PREFIX: a.config.REDIS_KEY_PREFIX } });
  memory = await startTestHub({ mongoUri, seams });
  uncached = await startTestHub({ mongoUri, seams: { ...seams, snapshotCache: () => new NoSnapshotCache() } });
  await writeFixture(a.hub.database.models);
});

async function addBooking(hub: TestHub, sessionId: string, date: string, quantity: number) {
  await hub.hub.database.models.Booking.collection.insertOne({
    sessionId: new Types.ObjectId(sessionId),
    date,
    quantity,
    status: 'confirmed',
    userId: 'cache-user',
    createdAt: new Date(),
    updatedAt: new Date(),
  });
}

const spinOn = async (hub: TestHub, date: string) => (await hub.hub.reads.byDate(date)).find((row) => row.sessionId === id(ids.spin))!;

describe('availability cache', () => {
  it.each(['redis', 'memory'] as const)('%s: a read is never older than the latest recompute', async (mode) => {
    const hub = mode === 'redis' ? a : memory;
    const before = await spinOn(hub, MON);
    await addBooking(hub, id(ids.spin), MON, 2);
    const [change] = await hub.hub.writes.recompute([{ sessionId: id(ids.spin), date: MON }], 'booking');
    const after = await spinOn(hub, MON);
    expect(after.booked).toBe(before.booked + 2);
    expect(after.version).toBe(change!.availability.version);
    expect(after.version).toBeGreaterThan(before.version);
  });

  it('shares snapshots and one version counter between instances', async () => {
    const onA = await spinOn(a, SUN);
    await addBooking(a, id(ids.spin), SUN, 1);
    const [fromB] = await b.hub.writes.recompute([{ sessionId: id(ids.spin), date: SUN }], 'booking');
    expect(fromB!.availability.version).toBeGreaterThan(onA.version);
    const readOnA = await spinOn(a, SUN);
    expect(readOnA).toEqual(fromB!.availability);
    const [fromA] = await a.hub.writes.recompute([{ sessionId: id(ids.spin), date: SUN }], 'refresh');
    expect(fromA?.availability.version ?? Number.POSITIVE_INFINITY).toBeGreaterThan(fromB!.availability.version);
  });

  it('refuses to overwrite a newer snapshot with an older one', async () => {
    const current = await spinOn(a, SAT);
    const stale = { ...current, booked: 0, version: current.version - 1 };
    expect(await a.hub.services.stores.cache.put([stale])).toEqual([false]);
    expect(await spinOn(b, SAT)).toEqual(current);
  });

  it('fills on a miss and answers from the cache after', async () => {
    const lookups = async () => {
      const text = await a.hub.metrics.registry.getSingleMetricAsString('slotcast_cache_lookups_total');
      const value = (result: string) => Number(new RegExp(`result="${result}"[^}]*} (\\d+)`).exec(text)?.[1] ?? 0);
      return { hit: value('hit'), miss: value('miss') };
    };
    const keys = (await a.hub.reads.keysIn({ from: '2030-01-01', to: '2030-01-03' })).length;
    expect(keys).toBe(6); // swim and spin each day; weekend yoga does not run Tuesday to Thursday
    const start = await lookups();
    await a.hub.reads.byDateRange('2030-01-01', '2030-01-03');
    const afterFirst = await lookups();
    expect(afterFirst.miss - start.miss).toBe(keys);
    await a.hub.reads.byDateRange('2030-01-01', '2030-01-03');
    const afterSecond = await lookups();
    expect(afterSecond.hit - afterFirst.hit).toBe(keys);
    expect(afterSecond.miss).toBe(afterFirst.miss);
  });

  it('sees a session added on another instance once that instance says sessions changed', async () => {
    const newId = new Types.ObjectId();
    await a.hub.database.models.Session.create({ _id: newId, name: 'Late Sauna', startTime: '21:00', endTime: '22:00', capacity: 8 });
    await a.hub.writes.recompute([{ sessionId: String(newId), date: SAT }], 'session');
    expect((await b.hub.reads.byDate(SAT)).map((row) => row.name)).toContain('Late Sauna');
  });

  it('finds a session inserted a moment ago, before any instance was told sessions changed', async () => {
    await b.hub.reads.byDate(SAT); // b holds a sessions list from before the insert
    const newId = new Types.ObjectId();
    await a.hub.database.models.Session.collection.insertOne({ _id: newId, name: 'Dawn Row', startTime: '05:00', endTime: '06:00', capacity: 4, active: true, daysOfWeek: [] });
    expect(await b.hub.reads.bySession(String(newId), SAT)).toMatchObject({ name: 'Dawn Row', capacity: 4, booked: 0 });
    await expect(b.hub.reads.bySession(ids.unknown, SAT)).rejects.toThrow(/no session/);
  });

  it('reads MongoDB on every call with the cache off', async () => {
    const before = await spinOn(uncached, '2031-05-05');
    await addBooking(uncached, id(ids.spin), '2031-05-05', 3);
    expect((await spinOn(uncached, '2031-05-05')).booked).toBe(before.booked + 3);
  });
});

describe('batching', () => {
  it('reads a 30-day range with one bookings aggregation', async () => {
    const calls: string[] = [];
    a.hub.database.connection.set('debug', (collection: string, method: string) => {
      calls.push(`${collection}.${method}`);
    });
    try {
      await a.hub.reads.byDateRange('2032-03-01', '2032-03-30');
    } finally {
      a.hub.database.connection.set('debug', false);
    }
    expect(calls.filter((call) => call === 'bookings.aggregate')).toHaveLength(1);
    expect(calls.filter((call) => call.startsWith('session_overrides.'))).toHaveLength(1);
  });

  it('fills a key that many readers miss at once with one recompute', async () => {
    const calls: string[] = [];
    a.hub.database.connection.set('debug', (collection: string, method: string) => {
      calls.push(`${collection}.${method}`);
    });
    try {
      const answers = await Promise.all(Array.from({ length: 20 }, () => a.hub.reads.byDate('2033-07-07')));
      expect(new Set(answers.map((rows) => JSON.stringify(rows))).size).toBe(1);
    } finally {
      a.hub.database.connection.set('debug', false);
    }
    expect(calls.filter((call) => call === 'bookings.aggregate')).toHaveLength(1);
  });
});

/** The real in-process cache, with a hook that lets a rival write land just before the engine's next one. */
class RacingCache extends MemorySnapshotCache {
  beforeNextPut: (() => Promise<void>) | undefined;
  override async put(entries: SessionAvailability[]): Promise<boolean[]> {
    const hook = this.beforeNextPut;
    this.beforeNextPut = undefined;
    await hook?.();
    return super.put(entries);
  }
}

/** One instance's read and write sides over the given cache and counter, built as hub.ts builds them. */
function sidesOver(hub: TestHub, cache: MemorySnapshotCache, versions: MemoryVersionCounter, broadcaster: RecordingBroadcaster) {
  const reader = new AvailabilityReader(hub.hub.database.models);
  const catalog = new SessionCatalog(reader, new MemoryCatalogEpoch());
  const compute = new VersionedCompute(catalog, reader, versions, hub.config.LOW_AVAILABILITY_RATIO);
  const alerts = new AlertRules(reader, { marks: new MemoryOnceMarks(), alertStates: new MemoryAlertStates() }, {
    lowRatio: hub.config.LOW_AVAILABILITY_RATIO,
    highDemandBookings: hub.config.HIGH_DEMAND_BOOKINGS,
    highDemandWindowMs: hub.config.HIGH_DEMAND_WINDOW_MINUTES * 60_000,
  });
  const reads = new AvailabilityReads({ catalog, compute, cache, reader, alerts, timeZone: hub.config.TIMEZONE });
  const writes = new AvailabilityWrites({ catalog, compute, cache, alerts, broadcaster, today: () => reads.today() });
  return { reads, writes };
}

describe('publishing after a change', () => {

  it('publishes a key recomputed after a change even when a reader cached the same numbers first', async () => {
    const key = { sessionId: id(ids.spin), date: '2030-03-04' };
    const held = await spinOn(a, key.date); // what subscribers hold
    await addBooking(a, key.sessionId, key.date, 1);
    // The entry expires (CACHE_TTL_SECONDS) and a reader on another instance fills it, publishing nothing.
    await a.hub.services.stores.cache.delete([key]);
    expect((await spinOn(b, key.date)).booked).toBe(held.booked + 1);
    a.recorder.clear();
    const [change] = await a.hub.writes.recompute([key], 'booking');
    expect(change?.availability.booked).toBe(held.booked + 1);
    expect(a.recorder.changes.map((c) => c.availability.version)).toEqual([change!.availability.version]);
  });

  it('recomputes a key again when a newer row won its write, so no version goes out twice', async () => {
    const key = { sessionId: id(ids.spin), date: '2030-03-05' };
    const store = new RacingCache(60_000);
    const versions = new MemoryVersionCounter();
    const recorder = new RecordingBroadcaster();
    const { reads, writes } = sidesOver(a, store, versions, recorder);
    const [current] = await reads.snapshots({ from: key.date, to: key.date, sessionIds: [key.sessionId] });
    await addBooking(a, key.sessionId, key.date, 1);
    // Another writer (a reader's fill, say) reserves a version after this recompute did and stores first.
    let rival: SessionAvailability | undefined;
    store.beforeNextPut = async () => {
      rival = { ...current!, booked: current!.booked + 1, version: await versions.reserve(1) };
      await store.put([rival]);
    };
    const changes = await writes.recompute([key], 'booking');
    expect(changes).toHaveLength(1);
    expect(changes[0]!.availability).toMatchObject({ booked: current!.booked + 1 });
    expect(changes[0]!.availability.version).toBeGreaterThan(rival!.version);
    expect(recorder.changes.map((c) => c.availability.version)).toEqual([changes[0]!.availability.version]);
    expect(await store.get([key])).toEqual([changes[0]!.availability]);
  });

  it('neither caches nor publishes once the fence says this instance is no longer the leader', async () => {
    const key = { sessionId: id(ids.spin), date: '2030-03-06' };
    const before = await spinOn(a, key.date);
    await addBooking(a, key.sessionId, key.date, 1);
    a.recorder.clear();
    expect(await a.hub.writes.recompute([key], 'booking', [], { mayPublish: () => false })).toEqual([]);
    expect(a.recorder.calls).toEqual([]);
    expect(await a.hub.services.stores.cache.get([key])).toEqual([before]);
  });
});

import { beforeAll, describe, expect, it } from 'vitest';
import { Types } from 'mongoose';
import { pino } from 'pino';
import { addDays, keyOf, todayIn, type Key } from '@slotcast/shared';
import { startTestHub, type TestHub } from '../support/hub.ts';
import { ledgerOf, placesOf } from '../support/guard.ts';
import { AvailabilityReader, type Scope } from '../../server/src/availability/reader.ts';
import { SessionCatalog } from '../../server/src/availability/catalog.ts';
import { MemoryCatalogEpoch } from '../../server/src/availability/store/memory.ts';
import { CapacityLedger } from '../../server/src/guard/ledger.ts';
import { Holds } from '../../server/src/guard/holds.ts';
import { HoldSweeper } from '../../server/src/guard/sweeper.ts';
import { Waitlist } from '../../server/src/guard/waitlist.ts';
import { IdempotentCalls } from '../../server/src/guard/idempotency.ts';
import { capacityReader, placesReader } from '../../server/src/guard/places.ts';
import type { Models } from '../../server/src/db/models.ts';

/**
 * The guard's parts (CapacityLedger, Holds, HoldSweeper) against the real wire server, with the
 * interleavings a crash or an unlucky schedule produces made to happen on purpose: a claim
 * admitted whose hold was never written, a read that a concurrent write lands between.
 */

const logger = pino({ level: 'silent' });
const date = addDays(todayIn('UTC'), 5);
let t: TestHub;
let models: Models;
let reader: AvailabilityReader;
let catalog: SessionCatalog;

beforeAll(async () => {
  // No change feed: nothing reconciles or sweeps behind the test's back (the hub's sweeper runs on the feed's leader only).
  t = await startTestHub({ seams: { changeFeed: false } });
  models = t.hub.database.models;
  reader = new AvailabilityReader(models);
  catalog = new SessionCatalog(reader, new MemoryCatalogEpoch());
});

/** A key of its own: a new session with `capacity` places, every day. */
async function freshKey(capacity: number): Promise<Key> {
  const _id = new Types.ObjectId();
  await models.Session.create({ _id, name: `Class ${String(_id).slice(-4)}`, startTime: '12:00', endTime: '13:00', capacity });
  await catalog.changed();
  return { sessionId: String(_id), date };
}

/** The guard as hub.ts builds it, over `models` and a reader the test may slow down. */
function guard(options: { models?: Models; reader?: AvailabilityReader } = {}) {
  const m = options.models ?? models;
  const truthOf = placesReader(catalog, options.reader ?? reader);
  const ledger = new CapacityLedger(m, truthOf, logger);
  const parts = { models: m, documents: t.hub.database.documents, catalog, reads: t.hub.reads, ledger, idempotent: new IdempotentCalls(m), capacityOf: capacityReader(catalog, options.reader ?? reader), options: { holdTtlSeconds: 600, holdMaxTtlSeconds: 3600 } };
  const waitlist = new Waitlist({ ...parts, offerSeconds: 300, logger });
  const holds = new Holds(parts, waitlist);
  const sweeper = new HoldSweeper({ models: m, holds, ledger, waitlist, isLeader: () => false, logger });
  return { ledger, holds, sweeper };
}

const inAnHour = () => ({ expiresAt: new Date(Date.now() + 3_600_000), source: 'api' as const });
const principal = (userId: string) => ({ userId, roles: new Set<never>() });

/** Makes every claim of a key look `ageMs` old, as if its call had stalled that long. */
async function ageClaims(key: Key, ageMs: number) {
  const doc = await models.Ledger.findById(keyOf(key)).lean();
  const at = new Date(Date.now() - ageMs);
  await models.Ledger.updateOne({ _id: keyOf(key) }, { $set: { claims: doc!.claims.map((claim) => ({ ...claim, at })) } });
}

describe('CapacityLedger', () => {
  it('admits a caller whose conditional update missed only because another caller was creating the ledger', async () => {
    const key = await freshKey(30);
    // The ledger's "how many are free?" read waits until a second caller has created the ledger and been admitted.
    let created!: () => void;
    const gate = new Promise<void>((resolve) => (created = resolve));
    let reads = 0;
    let reading!: () => void;
    const isReading = new Promise<void>((resolve) => (reading = resolve));
    const gated = new Proxy(models.Ledger, {
      get(target, property, receiver) {
        if (property !== 'findById') return Reflect.get(target, property, receiver) as unknown;
        return (...args: Parameters<typeof target.findById>) => ({
          lean: async () => {
            if (reads++ === 0) {
              reading();
              await gate;
            }
            return target.findById(...args).lean();
          },
        });
      },
    });
    const slow = guard({ models: { ...models, Ledger: gated } }).ledger;
    const first = slow.admit(key, new Types.ObjectId(), 2);
    // Wait until the slow caller's update has missed (the ledger does not exist yet) and it is reading.
    await isReading;
    expect(await guard().ledger.admit(key, new Types.ObjectId(), 2)).toEqual({ admitted: true });
    created();
    // 28 places are free: refusing with "only 28 left, 2 asked for" would be a refusal the contract does not allow.
    expect(await first).toEqual({ admitted: true });
    expect(await ledgerOf(models, key)).toMatchObject({ free: 26 });
  });

  it('does not miss places that a confirm moves from a hold to its booking while it reads MongoDB', async () => {
    const key = await freshKey(10);
    const { ledger, holds } = guard();
    const hold = await holds.take(new Types.ObjectId(), key, 'ann', 4, inAnHour());
    expect(await ledgerOf(models, key)).toMatchObject({ free: 6, claims: [] });

    // A reader that lets its first read of the places (held or booked, whichever comes first) run,
    // and holds back the second until the test has confirmed the hold in between.
    let firstDone!: () => void;
    let resume!: () => void;
    const first = new Promise<void>((resolve) => (firstDone = resolve));
    const resumed = new Promise<void>((resolve) => (resume = resolve));
    let started = 0;
    const step = async <T>(read: () => Promise<T>): Promise<T> => {
      if (started++ === 0) return read().finally(firstDone);
      await resumed;
      return read();
    };
    class PausingReader extends AvailabilityReader {
      override booked(scope: Scope) {
        return step(() => super.booked(scope));
      }
      override held(scope: Scope, now?: Date) {
        return step(() => super.held(scope, now));
      }
    }
    const reconciling = guard({ reader: new PausingReader(models) }).ledger.reconcile([key]);
    await first;
    await holds.confirm(principal('ann'), { holdId: String(hold._id) });
    resume();
    await reconciling;
    expect(await placesOf(models, key)).toEqual({ held: 0, booked: 4, taken: 4 });
    // Counted twice at worst (2 free until the next reconciliation), never missed (10 free would sell 4 places twice).
    expect((await ledgerOf(models, key))!.free).toBeLessThanOrEqual(6);
    await ledger.reconcile([key]);
    expect(await ledgerOf(models, key)).toMatchObject({ free: 6, claims: [] });
    expect(await ledger.admit(key, new Types.ObjectId(), 7)).toEqual({ admitted: false, free: 6 });
  });
});

describe('HoldSweeper.returnAbandonedClaims', () => {
  it('gives back the places of a claim whose hold was never written, once the claim is 30 s old', async () => {
    const key = await freshKey(8);
    const { ledger, sweeper } = guard();
    // A call admitted 5 places and died before writing its hold.
    const claim = new Types.ObjectId();
    expect(await ledger.admit(key, claim, 5)).toEqual({ admitted: true });
    expect(await ledger.admit(key, new Types.ObjectId(), 4)).toEqual({ admitted: false, free: 3 });
    // Young, it may belong to a slow call: it stays counted.
    await ageClaims(key, 29_000);
    expect(await sweeper.returnAbandonedClaims()).toBe(0);
    expect(await ledgerOf(models, key)).toMatchObject({ free: 3, claims: [{ id: claim, quantity: 5 }] });

    await ageClaims(key, 31_000);
    expect(await sweeper.returnAbandonedClaims()).toBe(1);
    expect(await ledgerOf(models, key)).toMatchObject({ free: 8, claims: [] });
    // In the hold's place, a released marker with the claim's id, so the call cannot write it late.
    expect(await models.Hold.findById(claim).lean()).toMatchObject({ status: 'released', quantity: 5, userId: '' });
    const late = models.Hold.collection.insertOne({ _id: claim, sessionId: new Types.ObjectId(key.sessionId), date, userId: 'late', quantity: 5, status: 'active', expiresAt: new Date(Date.now() + 60_000), source: 'api' });
    await expect(late).rejects.toMatchObject({ code: 11000 });
    expect(await placesOf(models, key)).toEqual({ held: 0, booked: 0, taken: 0 });
    // The places are sold again, and no more than the capacity.
    expect(await ledger.admit(key, new Types.ObjectId(), 8)).toEqual({ admitted: true });
    expect(await ledger.admit(key, new Types.ObjectId(), 1)).toEqual({ admitted: false, free: 0 });
  });

  it('keeps counting a claim whose hold was written before its call died, and forgets the claim', async () => {
    const key = await freshKey(6);
    const { ledger, sweeper } = guard();
    const claim = new Types.ObjectId();
    expect(await ledger.admit(key, claim, 2)).toEqual({ admitted: true });
    // The hold is written; the call died before settling its claim.
    await models.Hold.collection.insertOne({ _id: claim, sessionId: new Types.ObjectId(key.sessionId), date, userId: 'bea', quantity: 2, status: 'active', expiresAt: new Date(Date.now() + 600_000), source: 'api' });
    await ageClaims(key, 31_000);
    expect(await sweeper.returnAbandonedClaims()).toBe(0);
    expect(await ledgerOf(models, key)).toMatchObject({ free: 4, claims: [] });
    expect(await placesOf(models, key)).toEqual({ held: 2, booked: 0, taken: 2 });
    expect(await ledger.admit(key, new Types.ObjectId(), 5)).toEqual({ admitted: false, free: 4 });
  });
});

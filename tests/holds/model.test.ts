import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Types } from 'mongoose';
import { pino } from 'pino';
import { addDays, keyOf, todayIn, type Key } from '@slotcast/shared';
import { startTestHub, type TestHub } from '../support/hub.ts';
import { callerOn, ledgerOf, mongoWaiter, outcome, placesOf, type Outcome } from '../support/guard.ts';
import { AvailabilityReader } from '../../server/src/availability/reader.ts';
import { SessionCatalog } from '../../server/src/availability/catalog.ts';
import { MemoryCatalogEpoch } from '../../server/src/availability/store/memory.ts';
import { CapacityLedger } from '../../server/src/guard/ledger.ts';
import { HoldSweeper } from '../../server/src/guard/sweeper.ts';
import { placesReader } from '../../server/src/guard/places.ts';
import type { Models } from '../../server/src/db/models.ts';
import type { SlotcastClient } from '../../client/src/index.ts';

/**
 * The guard against a model of a few lines: random sequences of hub calls (create, book,
 * extend, release, confirm, cancel), expiries (time travel, then the sweeper) and writes other
 * services make straight into MongoDB (bookings, capacity overrides), each run on a key of its
 * own. Every answer must be the model's, the ledger must come to the model's free places after
 * every step, and MongoDB must agree with the model at the end of each run.
 */

const SEED = 20_261_201;
const RUNS = 30;

type Command =
  | { kind: 'create' | 'book'; user: number; quantity: number }
  | { kind: 'extend' | 'release' | 'confirm' | 'expire'; hold: number }
  | { kind: 'cancel'; booking: number }
  | { kind: 'outside'; quantity: number }
  | { kind: 'capacity'; capacity: number };

const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('create' as const), user: fc.nat(1), quantity: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('book' as const), user: fc.nat(1), quantity: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constantFrom('extend' as const, 'release' as const, 'confirm' as const, 'expire' as const), hold: fc.nat(20) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cancel' as const), booking: fc.nat(20) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('outside' as const), quantity: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('capacity' as const), capacity: fc.integer({ min: 0, max: 8 }) }) },
);

/** What the contract says of one key: its capacity, its holds and bookings, and what each call answers. */
class Model {
  holds: { id: string; user: number; quantity: number; status: string }[] = [];
  bookings: { id: string; quantity: number; status: string; made: 'book' | 'confirm' | 'outside' }[] = [];
  constructor(public capacity: number) {}

  get held() {
    return this.holds.filter((h) => h.status === 'active').reduce((sum, h) => sum + h.quantity, 0);
  }
  get booked() {
    return this.bookings.filter((b) => b.status === 'confirmed').reduce((sum, b) => sum + b.quantity, 0);
  }
  get free() {
    return this.capacity - this.booked - this.held;
  }
  /** The answer to taking `quantity` places: admitted, or the refusal's code, reason and places left. */
  admission(quantity: number): { ok: true } | { ok: false; code: string; reason?: string; available?: number } {
    if (this.capacity === 0) return { ok: false, code: 'CONFLICT', reason: 'CLOSED' };
    if (quantity > this.capacity) return { ok: false, code: 'BAD_REQUEST' };
    if (this.free < quantity) return { ok: false, code: 'CONFLICT', reason: 'INSUFFICIENT', available: Math.max(0, this.free) };
    return { ok: true };
  }
}

const date0 = addDays(todayIn('UTC'), 30);
const sessionId = new Types.ObjectId();
let t: TestHub;
let models: Models;
let users: SlotcastClient[];
let staff: SlotcastClient;
let sweeper: HoldSweeper;
let waiter: ReturnType<typeof mongoWaiter>;
let runs = 0;
let steps = 0;

beforeAll(async () => {
  t = await startTestHub({ env: { COALESCE_MS: '10' } });
  models = t.hub.database.models;
  await models.Session.create({ _id: sessionId, name: 'Model class', startTime: '08:00', endTime: '09:00', capacity: 5 });
  users = [await callerOn(t.hub.url, 'ann'), await callerOn(t.hub.url, 'ben')];
  staff = await callerOn(t.hub.url, 'desk', ['staff']);
  // The test's own sweeper runs expiries when the test says (the hub's runs too, on its own clock: both are conditional).
  const reader = new AvailabilityReader(models);
  const ledger = new CapacityLedger(models, placesReader(new SessionCatalog(reader, new MemoryCatalogEpoch()), reader), pino({ level: 'silent' }));
  sweeper = new HoldSweeper({ models, holds: t.hub.api.holds, ledger, waitlist: t.hub.api.waitlist, isLeader: () => false, logger: pino({ level: 'silent' }) });
  waiter = mongoWaiter(models, 50);
});

/** Runs one command on the hub and on the model; throws when they disagree. */
async function step(model: Model, key: Key, c: Command): Promise<void> {
  const expectSame = (got: Outcome<unknown>, want: ReturnType<Model['admission']> | { ok: boolean; code?: string; reason?: string }) => {
    const seen = got.ok ? { ok: true } : { ok: false, code: got.code, ...(got.reason ? { reason: got.reason } : {}), ...(got.available !== undefined ? { available: got.available } : {}) };
    expect(seen, JSON.stringify(c)).toEqual(want);
  };
  const pick = (i: number) => model.holds[i % Math.max(1, model.holds.length)];
  switch (c.kind) {
    case 'create':
    case 'book': {
      const want = model.admission(c.quantity);
      const got =
        c.kind === 'create'
          ? await outcome(users[c.user]!.holds.create.mutate({ ...key, quantity: c.quantity, ttlSeconds: 600 }).then((r) => r.hold.holdId))
          : await outcome(users[c.user]!.bookings.create.mutate({ ...key, quantity: c.quantity }).then((r) => r.booking.bookingId));
      expectSame(got, want);
      if (!got.ok) return;
      if (c.kind === 'create') model.holds.push({ id: got.value, user: c.user, quantity: c.quantity, status: 'active' });
      else model.bookings.push({ id: got.value, quantity: c.quantity, status: 'confirmed', made: 'book' });
      // What the hub admitted never takes MongoDB's count past the capacity (outside writers may, the hub may not follow them).
      expect((await placesOf(models, key)).taken, 'booked + held after an admission').toBeLessThanOrEqual(model.capacity);
      return;
    }
    case 'extend':
    case 'release':
    case 'confirm': {
      const hold = pick(c.hold);
      if (!hold) return;
      const client = users[hold.user]!;
      const input = { holdId: hold.id };
      const got =
        c.kind === 'extend'
          ? await outcome(client.holds.extend.mutate({ ...input, ttlSeconds: 900 }))
          : c.kind === 'release'
            ? await outcome(client.holds.release.mutate(input))
            : await outcome(client.holds.confirm.mutate(input).then((r) => r.booking.bookingId));
      expectSame(got, hold.status === 'active' ? { ok: true } : { ok: false, code: 'CONFLICT', reason: 'HOLD_INACTIVE' });
      if (!got.ok || c.kind === 'extend') return;
      hold.status = c.kind === 'release' ? 'released' : 'confirmed';
      if (c.kind === 'confirm') model.bookings.push({ id: got.value as string, quantity: hold.quantity, status: 'confirmed', made: 'confirm' });
      return;
    }
    case 'expire': {
      const hold = pick(c.hold);
      if (!hold || hold.status !== 'active') return;
      // Time travel: the hold's expiry is now in the past; the sweeper marks it expired and its places come back.
      await models.Hold.updateOne({ _id: hold.id }, { $set: { expiresAt: new Date(Date.now() - 1000) } });
      await sweeper.expireDue();
      hold.status = 'expired';
      return;
    }
    case 'cancel': {
      const booking = model.bookings[c.booking % Math.max(1, model.bookings.length)];
      if (!booking) return;
      const got = await outcome(staff.bookings.cancel.mutate({ bookingId: booking.id }));
      expectSame(got, booking.status === 'confirmed' ? { ok: true } : { ok: false, code: 'CONFLICT', reason: 'BOOKING_INACTIVE' });
      booking.status = 'cancelled';
      return;
    }
    case 'outside': {
      // Another service sells places straight into MongoDB; it may oversell, and the hub counts them as they arrive.
      const doc = await models.Booking.create({ ...key, userId: 'box-office', quantity: c.quantity, status: 'confirmed' });
      model.bookings.push({ id: String(doc._id), quantity: c.quantity, status: 'confirmed', made: 'outside' });
      return;
    }
    case 'capacity':
      await models.SessionOverride.updateOne({ sessionId: key.sessionId, date: key.date }, { $set: { capacity: c.capacity } }, { upsert: true });
      model.capacity = c.capacity;
      return;
  }
}

/** The ledger (once the key has one) comes to the model's free places, with no claim left, after the change feed has seen every write. */
async function settled(model: Model, key: Key, last: Command) {
  await waiter.until(
    `the ledger to count ${model.free} free after ${JSON.stringify(last)}`,
    async () => {
      const ledger = await ledgerOf(models, key);
      return !ledger || (ledger.free === model.free && ledger.claims.length === 0);
    },
    10_000,
    async () => JSON.stringify({ ledger: await ledgerOf(models, key), model }),
  );
}

describe('the guard against a model', () => {
  it(`agrees with the model over ${RUNS} random runs (seed ${SEED})`, async () => {
    const started = performance.now();
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 8 }), fc.array(command, { minLength: 5, maxLength: 18 }), async (capacity, commands) => {
        // Each run, and each shrink of a failing run, on a date of its own.
        const key: Key = { sessionId: String(sessionId), date: addDays(date0, runs++) };
        await models.SessionOverride.create({ ...key, capacity });
        const model = new Model(capacity);
        for (const c of commands) {
          await step(model, key, c);
          await settled(model, key, c);
          steps += 1;
        }
        // MongoDB agrees with the model: every hold's and booking's status, the places, and what the engine computes.
        const holds = new Map((await models.Hold.find({ sessionId: key.sessionId, date: key.date }).lean()).map((doc) => [String(doc._id), doc.status]));
        // bookings.create takes its places through a hold of its own, confirmed at once.
        expect(holds.size).toBe(model.holds.length + model.bookings.filter((b) => b.made === 'book').length);
        for (const hold of model.holds) expect(holds.get(hold.id), `hold ${hold.id}`).toBe(hold.status);
        const bookings = new Map((await models.Booking.find({ sessionId: key.sessionId, date: key.date }).lean()).map((doc) => [String(doc._id), doc.status]));
        expect(bookings).toEqual(new Map(model.bookings.map((b) => [b.id, b.status])));
        expect(await placesOf(models, key)).toEqual({ held: model.held, booked: model.booked, taken: model.held + model.booked });
        expect(await t.hub.reads.fresh(key)).toMatchObject({ capacity: model.capacity, held: model.held, booked: model.booked, available: Math.max(0, model.free) });
        const ledger = await ledgerOf(models, key);
        if (ledger) expect(ledger).toMatchObject({ _id: keyOf(key), free: model.free, claims: [] });
      }),
      // A failing run is shrunk to a short sequence, within the time limit (an interrupted search still fails).
      { seed: SEED, numRuns: RUNS, interruptAfterTimeLimit: 90_000, markInterruptAsFailure: true },
    );
    console.log(`model test: ${runs} runs (seed ${SEED}), ${steps} steps, ${Math.round(performance.now() - started)} ms`);
    expect(runs).toBeGreaterThanOrEqual(RUNS);
  }, 120_000);
});

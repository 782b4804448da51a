import { beforeAll, describe, expect, it } from 'vitest';
import { Types } from 'mongoose';
import { addDays, todayIn, type Key } from '@slotcast/shared';
import { isLeader, startCluster, urlOf } from '../support/cluster.ts';
import { connect, subscribe, Received } from '../support/sockets.ts';
import { callerOn, ledgerOf, outcome, placesOf, tally, type Outcome } from '../support/guard.ts';
import type { SlotcastClient } from '../../client/src/index.ts';

/**
 * Guarded writes raced from many callers over two hub processes behind one Redis and one
 * MongoDB: whatever the interleaving, what the hubs admit never exceeds capacity, and both
 * instances' sockets end on MongoDB's numbers.
 */

const date = addDays(todayIn('UTC'), 3);
// One session per test, inserted before the hubs start so every instance's catalog has them.
const sessions = { hot: 20, odd: 21, confirms: 30, retries: 5, bookings: 12 };
const sessionIds = Object.fromEntries(Object.keys(sessions).map((name) => [name, new Types.ObjectId()])) as Record<keyof typeof sessions, Types.ObjectId>;
const keyOfSession = (name: keyof typeof sessions): Key => ({ sessionId: String(sessionIds[name]), date });

let cluster: Awaited<ReturnType<typeof startCluster>>;
let urls: string[];

beforeAll(async () => {
  // Every caller comes from 127.0.0.1: a per-client rate limit would refuse the crowd, not the guard.
  cluster = await startCluster({ env: { TRPC_RATE_LIMIT_REQUESTS: '0' } });
  await cluster.models.Session.insertMany(
    Object.entries(sessions).map(([name, capacity], i) => ({ _id: sessionIds[name as keyof typeof sessions], name, startTime: `1${i}:00`, endTime: `1${i}:30`, capacity })),
  );
  const hubs = [cluster.spawn('hub-a'), cluster.spawn('hub-b')];
  urls = await Promise.all(hubs.map(urlOf));
  await Promise.race(hubs.map(isLeader));
}, 90_000);

/** `count` callers, each with its own JWT, alternating between the two instances. */
const crowd = (prefix: string, count: number) => Promise.all(Array.from({ length: count }, (_, i) => callerOn(urls[i % 2]!, `${prefix}-${i}`)));

/** Fires every call in the same tick and waits for all of them; logs how long the race took. */
async function race<T>(name: string, calls: (() => Promise<T>)[]): Promise<Outcome<T>[]> {
  const started = performance.now();
  const outcomes = await Promise.all(calls.map((call) => outcome(call())));
  console.log(`${name}: ${calls.length} calls in ${Math.round(performance.now() - started)} ms: ${JSON.stringify(tally(outcomes))}`);
  return outcomes;
}

/** Sockets on both instances subscribed to the date, holding the newest row per key. */
async function watchers(perInstance = 2): Promise<Received[]> {
  return Promise.all(
    urls.flatMap((url) =>
      Array.from({ length: perInstance }, async () => {
        const received = new Received(await connect(url));
        const ack = received.apply(await subscribe(received.socket, { channel: `availability.${date}` }));
        expect(ack.ok).toBe(true);
        return received;
      }),
    ),
  );
}

async function expectSockets(clients: Received[], key: Key, row: { held: number; booked: number; available: number; status: string }) {
  for (const [i, client] of clients.entries()) {
    await client.until(`socket ${i} to show ${JSON.stringify(row)}`, (r) => {
      const seen = r.get(key.sessionId, key.date);
      return seen?.held === row.held && seen.booked === row.booked && seen.available === row.available && seen.status === row.status;
    });
  }
}

const admitted = <T>(outcomes: Outcome<T>[]) => outcomes.filter((o): o is { ok: true; value: T } => o.ok).map((o) => o.value);
const refused = <T>(outcomes: Outcome<T>[]) => outcomes.filter((o): o is Exclude<Outcome<T>, { ok: true }> => !o.ok);

describe('holds raced over two hub processes', () => {
  it('admits exactly 20 of 300 concurrent callers for 20 places, refuses the rest with INSUFFICIENT, and both instances show it', async () => {
    const key = keyOfSession('hot');
    const sockets = await watchers();
    const callers = await crowd('racer', 300);
    const outcomes = await race('300 callers, 20 places', callers.map((caller) => () => caller.holds.create.mutate({ ...key, quantity: 1 })));

    expect(admitted(outcomes)).toHaveLength(20);
    for (const refusal of refused(outcomes)) expect(refusal).toMatchObject({ code: 'CONFLICT', reason: 'INSUFFICIENT', available: 0 });
    expect(new Set(admitted(outcomes).map((made) => made.hold.userId)).size).toBe(20);
    expect(await cluster.models.Hold.countDocuments({ sessionId: key.sessionId, date, status: 'active' })).toBe(20);
    expect(await placesOf(cluster.models, key)).toEqual({ held: 20, booked: 0, taken: 20 });
    expect(await ledgerOf(cluster.models, key)).toMatchObject({ free: 0, claims: [] });
    await expectSockets(sockets, key, { held: 20, booked: 0, available: 0, status: 'full' });
    // A key's first admissions also set up its ledger (and each hub its MongoDB connections): on a busy machine this race takes tens of seconds.
  }, 120_000);

  it('never gives pairs more than an odd capacity, and the last single place goes to a single', async () => {
    const key = keyOfSession('odd'); // 21 places
    const pairs = await race('100 pairs, 21 places', (await crowd('pair', 100)).map((caller) => () => caller.holds.create.mutate({ ...key, quantity: 2 })));
    expect(admitted(pairs)).toHaveLength(10);
    // A pair is refused only once fewer than two places are left: exactly one, here.
    for (const refusal of refused(pairs)) expect(refusal).toMatchObject({ code: 'CONFLICT', reason: 'INSUFFICIENT', available: 1 });

    const mixed = (await crowd('mixed', 80)).map((caller, i) => () => caller.holds.create.mutate({ ...key, quantity: 1 + (i % 2) }));
    const last = await race('40 singles and 40 pairs, 1 place', mixed);
    const winners = admitted(last);
    expect(winners.map((made) => made.hold.quantity)).toEqual([1]);
    for (const refusal of refused(last)) {
      expect(refusal).toMatchObject({ code: 'CONFLICT', reason: 'INSUFFICIENT' });
      expect(refusal.available).toBeLessThanOrEqual(1);
    }
    expect(await placesOf(cluster.models, key)).toEqual({ held: 21, booked: 0, taken: 21 });
    expect(await ledgerOf(cluster.models, key)).toMatchObject({ free: 0, claims: [] });
  }, 60_000);

  it('decides each hold once when its owner confirms, releases and extends it on both instances at the same moment', async () => {
    const key = keyOfSession('confirms'); // 30 places
    const sockets = await watchers(1);
    // Each owner has a client on either instance.
    const owners = await Promise.all(Array.from({ length: 15 }, async (_, i) => [await callerOn(urls[0]!, `owner-${i}`), await callerOn(urls[1]!, `owner-${i}`)] as const));
    const holds = await Promise.all(owners.map(([a], i) => a.holds.create.mutate({ ...key, quantity: 2, ttlSeconds: 300 + i })));
    const ids = holds.map(({ hold }) => hold.holdId);

    // Holds 0-4: confirm on both. 5-9: confirm on one, release on the other. 10-14: extend on both, then release on both.
    const confirmBoth = await race('double confirm', owners.slice(0, 5).flatMap(([a, b], i) => [() => a.holds.confirm.mutate({ holdId: ids[i]! }), () => b.holds.confirm.mutate({ holdId: ids[i]! })]));
    const confirmOrRelease = await race<unknown>('confirm vs release', owners.slice(5, 10).flatMap(([a, b], i) => [() => a.holds.confirm.mutate({ holdId: ids[i + 5]! }), () => b.holds.release.mutate({ holdId: ids[i + 5]! })]));
    const extends_ = await race('extend on both', owners.slice(10).flatMap(([a, b], i) => [() => a.holds.extend.mutate({ holdId: ids[i + 10]!, ttlSeconds: 600 }), () => b.holds.extend.mutate({ holdId: ids[i + 10]!, ttlSeconds: 900 })]));
    expect(refused(extends_)).toEqual([]);
    const releaseBoth = await race('double release', owners.slice(10).flatMap(([a, b], i) => [() => a.holds.release.mutate({ holdId: ids[i + 10]! }), () => b.holds.release.mutate({ holdId: ids[i + 10]! })]));

    for (const pairs of [confirmBoth, confirmOrRelease, releaseBoth]) {
      for (let i = 0; i < pairs.length; i += 2) {
        // Exactly one of the two calls on a hold wins; the loser is told the hold is no longer active.
        const pair = [pairs[i]!, pairs[i + 1]!];
        expect(pair.filter((o) => o.ok)).toHaveLength(1);
        expect(pair.find((o) => !o.ok)).toMatchObject({ code: 'CONFLICT', reason: 'HOLD_INACTIVE' });
      }
    }
    const confirmedIds = [...ids.slice(0, 5), ...ids.slice(5, 10).filter((_, i) => confirmOrRelease[2 * i]!.ok)];
    const statuses = await cluster.models.Hold.find({ _id: { $in: ids } }).lean();
    for (const doc of statuses) expect(doc.status, String(doc._id)).toBe(confirmedIds.includes(String(doc._id)) ? 'confirmed' : 'released');
    // One booking per confirmed hold, whatever the number of confirms that raced.
    expect(await cluster.models.Booking.countDocuments({ sessionId: key.sessionId, date })).toBe(confirmedIds.length);
    const booked = confirmedIds.length * 2;
    expect(await placesOf(cluster.models, key)).toEqual({ held: 0, booked, taken: booked });
    expect(await ledgerOf(cluster.models, key)).toMatchObject({ free: 30 - booked, claims: [] });
    await expectSockets(sockets, key, { held: 0, booked, available: 30 - booked, status: 'available' });
    // A hold confirmed is done: a late confirm from either instance is refused.
    for (const [i, client] of [owners[0]![0], owners[0]![1]].entries()) {
      expect(await outcome(client.holds.confirm.mutate({ holdId: ids[0]! })), `instance ${i}`).toMatchObject({ ok: false, reason: 'HOLD_INACTIVE' });
    }
  }, 60_000);

  it('runs retries with one idempotency key once, when they arrive at the same moment on both instances', async () => {
    const key = keyOfSession('retries'); // 5 places
    const clients: SlotcastClient[] = [await callerOn(urls[0]!, 'shopper'), await callerOn(urls[1]!, 'shopper')];
    const creates = await race('12 creates, one key', Array.from({ length: 12 }, (_, i) => () => clients[i % 2]!.holds.create.mutate({ ...key, quantity: 2, idempotencyKey: 'cart-1' })));
    const made = admitted(creates);
    expect(made).toHaveLength(12);
    expect(new Set(made.map(({ hold }) => hold.holdId)).size).toBe(1);
    expect(await cluster.models.Hold.countDocuments({ sessionId: key.sessionId, date })).toBe(1);

    const holdId = made[0]!.hold.holdId;
    const confirms = await race('12 confirms, one key', Array.from({ length: 12 }, (_, i) => () => clients[i % 2]!.holds.confirm.mutate({ holdId, idempotencyKey: 'pay-1' })));
    expect(new Set(admitted(confirms).map(({ booking }) => booking.bookingId)).size).toBe(1);
    expect(admitted(confirms)).toHaveLength(12);

    // A refusal is remembered too: the key's first answer (INSUFFICIENT, 3 left) comes back to every retry.
    const tooMany = await race('12 bookings of 4, one key', Array.from({ length: 12 }, (_, i) => () => clients[i % 2]!.bookings.create.mutate({ ...key, quantity: 4, idempotencyKey: 'walk-1' })));
    for (const result of tooMany) expect(result).toMatchObject({ ok: false, code: 'CONFLICT', reason: 'INSUFFICIENT', available: 3 });
    const fits = await race('12 bookings of 3, one key', Array.from({ length: 12 }, (_, i) => () => clients[i % 2]!.bookings.create.mutate({ ...key, quantity: 3, idempotencyKey: 'walk-2' })));
    expect(new Set(admitted(fits).map(({ booking }) => booking.bookingId)).size).toBe(1);
    expect(admitted(fits)).toHaveLength(12);
    expect(await cluster.models.Booking.countDocuments({ sessionId: key.sessionId, date })).toBe(2);
    expect(await placesOf(cluster.models, key)).toEqual({ held: 0, booked: 5, taken: 5 });
  }, 60_000);

  it('books exactly the capacity with bookings.create from both instances, then refuses it on a full key', async () => {
    const key = keyOfSession('bookings'); // 12 places
    const outcomes = await race('120 bookings, 12 places', (await crowd('walk-in', 120)).map((caller) => () => caller.bookings.create.mutate({ ...key, quantity: 1 })));
    expect(admitted(outcomes)).toHaveLength(12);
    for (const refusal of refused(outcomes)) expect(refusal).toMatchObject({ code: 'CONFLICT', reason: 'INSUFFICIENT', available: 0 });
    for (const { booking } of admitted(outcomes)) expect(booking).toMatchObject({ status: 'confirmed', quantity: 1 });
    expect(await placesOf(cluster.models, key)).toEqual({ held: 0, booked: 12, taken: 12 });
    // Each booking was made through a hold of its own, confirmed at once.
    expect(await cluster.models.Hold.countDocuments({ sessionId: key.sessionId, date, status: 'confirmed', bookingId: { $exists: true } })).toBe(12);

    const late = await Promise.all(urls.map(async (url, i) => outcome((await callerOn(url, `late-${i}`)).bookings.create.mutate({ ...key, quantity: 1 }))));
    for (const result of late) expect(result).toMatchObject({ ok: false, code: 'CONFLICT', reason: 'INSUFFICIENT', available: 0 });
    expect(await placesOf(cluster.models, key)).toEqual({ held: 0, booked: 12, taken: 12 });
  }, 60_000);
});

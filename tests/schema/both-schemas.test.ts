import { beforeAll, describe, expect, it } from 'vitest';
import { Types, type mongo } from 'mongoose';
import { addDays, keyOf } from '@slotcast/shared';
import { openTestDatabase } from '../support/database.ts';
import { startTestHub, type TestHub } from '../support/hub.ts';
import { connect, subscribe, Received } from '../support/sockets.ts';
import { MON, SAT, SUN, id, ids, writeSchedule } from '../support/fixture.ts';
import fc from 'fast-check';
import { waitFor } from '../support/events.ts';
import { countedByHand, defaultCase, studioCase, writerFor, type SchemaCase, type Status } from '../support/schemas.ts';

/**
 * The same bodies against the default names and a mapped schema: what is written before start-up
 * is counted, snapshots and queries agree with an independent count over the raw documents, writes
 * to the mapped collections arrive live, and the hub's own bookings are written in the mapped form.
 */
const cases = [defaultCase, studioCase()];
const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000);
const started = new Map<SchemaCase, { t: TestHub; db: Awaited<ReturnType<typeof openTestDatabase>>; write: ReturnType<typeof writerFor> }>();

// Both hubs start at file level (cleanups registered in a describe's hook after a test has run would be tied to that test).
beforeAll(async () => {
  for (const c of cases) started.set(c, await startCase(c));
});

async function startCase(c: SchemaCase) {
    const db = await openTestDatabase(undefined, { syncIndexes: false });
    const write = writerFor(db.connection, c);
    // Written before the hub starts, as an adopted database would be.
    await writeSchedule(write);
    const b = (sessionId: Types.ObjectId, date: string, quantity: number, status: 'pending' | 'confirmed' | 'cancelled' | 'expired', userId = 'user-1') => ({
      sessionId: id(sessionId),
      date,
      quantity,
      status,
      userId,
      createdAt: minutesAgo(24 * 60),
    });
    await write.bookings([
      b(ids.swim, SAT, 2, 'confirmed'),
      b(ids.swim, SAT, 1, 'confirmed'),
      b(ids.swim, SAT, 5, 'pending'),
      b(ids.swim, SAT, 4, 'cancelled'),
      b(ids.swim, SAT, 3, 'expired'),
      b(ids.swim, SUN, 4, 'confirmed'),
      b(ids.swim, MON, 1, 'confirmed'),
      b(ids.yoga, SAT, 5, 'confirmed'),
      b(ids.spin, SAT, 1, 'confirmed', 'user-2'),
      b(ids.spin, SAT, 1, 'pending', 'user-3'),
      b(ids.spin, SAT, 1, 'cancelled', 'user-5'),
    ]);
    const t = await startTestHub({ redis: true, mongoUri: db.uri, env: { COALESCE_MS: '50', ...c.env } });
    await t.hub.feed!.idle();
    return { t, db, write };
}

describe.each(cases)('under $name', (c: SchemaCase) => {
  let t: TestHub;
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  let write: ReturnType<typeof writerFor>;
  beforeAll(() => {
    ({ t, db, write } = started.get(c)!);
  });

  it('answers byDate from the documents: active places, overrides, weekdays, inactive sessions', async () => {
    const client = t.client();
    const rows = await client.availability.byDate.query({ date: SAT });
    expect(rows.map((row) => [row.name, row.startTime, row.endTime, row.capacity, row.booked, row.status])).toEqual([
      ['Morning Swim', '07:00', '08:00', 10, 8, 'low'],
      ['Weekend Yoga', '09:00', '10:00', 5, 5, 'full'],
      ['Evening Spin', '18:00', '19:00', 20, 2, 'available'],
    ]);
    const [swimSunday] = await client.availability.byDate.query({ date: SUN });
    expect(swimSunday).toMatchObject({ capacity: 3, booked: 4, available: 0, overbooked: true });
    const monday = await client.availability.byDate.query({ date: MON });
    expect(monday.map((row) => [row.name, row.status, row.booked])).toEqual([
      ['Morning Swim', 'closed', 1],
      ['Evening Spin', 'available', 0],
    ]);
  });

  it('agrees with an independent count over the raw documents, for byDate, byDateRange and bySession', async () => {
    const client = t.client();
    const byHand = await countedByHand(db.connection, c);
    const days = await client.availability.byDateRange.query({ from: SAT, to: MON });
    const fromHub = new Map(days.flatMap((day) => day.sessions.map((row) => [keyOf(row), row.booked] as const)));
    for (const [key, booked] of fromHub) expect([key, booked]).toEqual([key, byHand.get(key) ?? 0]);
    // Every counted key is on a running session: nothing the hand count found is missing.
    for (const [key, booked] of byHand) if (fromHub.has(key)) expect(fromHub.get(key)).toBe(booked);
    expect(byHand.get(keyOf({ sessionId: id(ids.swim), date: SAT }))).toBe(8);
    const one = await client.availability.bySession.query({ sessionId: id(ids.yoga), date: SUN });
    expect(one).toMatchObject({ name: 'Weekend Yoga', booked: byHand.get(keyOf({ sessionId: id(ids.yoga), date: SUN })) ?? 0 });
  });

  it('gives a subscriber the snapshot, then follows writes to the collections live', async () => {
    const today = t.hub.reads.today();
    const [d1, d2] = [addDays(today, 1), addDays(today, 2)];
    const watcher = new Received(await connect(`http://127.0.0.1:${t.hub.port}`));
    const ack = watcher.apply(await subscribe(watcher.socket, { channel: `availability.${d1}` }));
    watcher.apply(await subscribe(watcher.socket, { channel: `availability.${d2}` }));
    expect(ack.ok).toBe(true);
    const snapshot = ack.ok ? ack.snapshot : [];
    expect(snapshot.find((row) => row.sessionId === id(ids.swim))).toMatchObject({ date: d1, name: 'Morning Swim', capacity: 10, booked: 0 });
    const byDate = await t.client().availability.byDate.query({ date: d1 });
    expect(snapshot.map((row) => [row.sessionId, row.capacity, row.booked])).toEqual(byDate.map((row) => [row.sessionId, row.capacity, row.booked]));

    const owner = new Received(await connect(`http://127.0.0.1:${t.hub.port}`, { token: await t.token('live-user') }));
    owner.apply(await subscribe(owner.socket, { channel: 'availability.user.live-user' }));

    const bookingId = new Types.ObjectId();
    await write.bookings([{ _id: bookingId, sessionId: id(ids.swim), date: d1, userId: 'live-user', quantity: 3, status: 'confirmed' }]);
    await watcher.until('the insert', (r) => r.get(id(ids.swim), d1)?.booked === 3);
    await owner.until('the owner hears of it', (r) => r.bookings.some((u) => u.bookingId === String(bookingId)));
    expect(owner.bookings.find((u) => u.bookingId === String(bookingId))).toMatchObject({ sessionId: id(ids.swim), date: d1, status: 'confirmed', quantity: 3 });

    // A user channel's snapshot lists the keys of the user's upcoming active bookings, read through the schema.
    const later = new Received(await connect(`http://127.0.0.1:${t.hub.port}`, { token: await t.token('live-user') }));
    const userAck = await subscribe(later.socket, { channel: 'availability.user.live-user' });
    expect(userAck.ok && userAck.snapshot.map((row) => [row.sessionId, row.date, row.booked])).toEqual([[id(ids.swim), d1, 3]]);

    await write.updateBooking(bookingId, { [c.paths.quantity]: 4 });
    await watcher.until('the quantity', (r) => r.get(id(ids.swim), d1)?.booked === 4);
    await write.moveBooking(bookingId, id(ids.spin), d2);
    await watcher.until('the move', (r) => r.get(id(ids.swim), d1)?.booked === 0 && r.get(id(ids.spin), d2)?.booked === 4);
    await write.setStatus(bookingId, 'cancelled');
    await watcher.until('the cancel', (r) => r.get(id(ids.spin), d2)?.booked === 0);
    await owner.until('the owner hears the cancel', (r) => r.bookings.some((u) => u.bookingId === String(bookingId) && u.status === 'cancelled'));

    await write.overrides([{ sessionId: id(ids.spin), date: d2, closed: true }]);
    await watcher.until('the closure', (r) => r.get(id(ids.spin), d2)?.status === 'closed');
    await write.renameSession(ids.swim, 'Morning Swim (heated)');
    await watcher.until('the session change', (r) => r.get(id(ids.swim), d1)?.name === 'Morning Swim (heated)');
    await write.renameSession(ids.swim, 'Morning Swim');
    await watcher.until('renamed back', (r) => r.get(id(ids.swim), d1)?.name === 'Morning Swim');
  });

  it('writes guarded bookings in the schema’s form, with writeStatuses, and cancels them', async () => {
    const date = addDays(t.hub.reads.today(), 3);
    const buyer = t.client(await t.token('buyer-1'));
    const { booking, availability } = await buyer.bookings.create.mutate({ sessionId: id(ids.swim), date, quantity: 2 });
    expect(booking).toMatchObject({ sessionId: id(ids.swim), date, userId: 'buyer-1', quantity: 2, status: 'confirmed' });
    expect(availability.booked).toBe(2);
    const raw = c.collections.bookings;
    const stored = await db.connection.collection(raw).findOne({ _id: new Types.ObjectId(booking.bookingId) } as mongo.Filter<mongo.Document>);
    const at = (path: string) => path.split('.').reduce<unknown>((v, p) => (v as Record<string, unknown> | undefined)?.[p], stored);
    expect([c.sessionIdOf(at(c.paths.sessionId)), c.dateOf(at(c.paths.date)), at(c.paths.userId), at(c.paths.quantity), at(c.paths.status)]).toEqual([
      id(ids.swim),
      date,
      'buyer-1',
      2,
      c.stored.confirmed,
    ]);
    expect(at(c.paths.updatedAt)).toBeInstanceOf(Date);
    expect((await countedByHand(db.connection, c)).get(keyOf({ sessionId: id(ids.swim), date }))).toBe(2);

    const cancelled = await buyer.bookings.cancel.mutate({ bookingId: booking.bookingId });
    expect(cancelled.booking.status).toBe('cancelled');
    expect(cancelled.availability.booked).toBe(0);
    const after = await db.connection.collection(raw).findOne({ _id: new Types.ObjectId(booking.bookingId) } as mongo.Filter<mongo.Document>);
    expect(c.paths.status.split('.').reduce<unknown>((v, p) => (v as Record<string, unknown> | undefined)?.[p], after)).toBe(c.stored.cancelled);
  });

  it('confirms a hold into a booking of the schema’s form', async () => {
    const date = addDays(t.hub.reads.today(), 5);
    const buyer = t.client(await t.token('buyer-2'));
    const { hold, availability } = await buyer.holds.create.mutate({ sessionId: id(ids.spin), date, quantity: 3 });
    expect(availability).toMatchObject({ held: 3, booked: 0 });
    const { booking, availability: after } = await buyer.holds.confirm.mutate({ holdId: hold.holdId });
    expect(after).toMatchObject({ held: 0, booked: 3 });
    const stored = await db.connection.collection(c.collections.bookings).findOne({ _id: new Types.ObjectId(booking.bookingId) } as mongo.Filter<mongo.Document>);
    const at = (path: string) => path.split('.').reduce<unknown>((v, p) => (v as Record<string, unknown> | undefined)?.[p], stored);
    expect([c.sessionIdOf(at(c.paths.sessionId)), c.dateOf(at(c.paths.date)), at(c.paths.userId), at(c.paths.quantity), at(c.paths.status)]).toEqual([
      id(ids.spin),
      date,
      'buyer-2',
      3,
      c.stored.confirmed,
    ]);
  });

  it('cancels a booking another program wrote', async () => {
    const date = addDays(t.hub.reads.today(), 4);
    const bookingId = new Types.ObjectId();
    await write.bookings([{ _id: bookingId, sessionId: id(ids.spin), date, userId: 'outside-1', quantity: 2, status: 'pending' }]);
    const staff = t.client(await t.token('staff-1', ['staff']));
    const { booking } = await staff.bookings.cancel.mutate({ bookingId: String(bookingId) });
    expect(booking).toMatchObject({ sessionId: id(ids.spin), date, userId: 'outside-1', quantity: 2, status: 'cancelled' });
    expect((await t.client().availability.bySession.query({ sessionId: id(ids.spin), date })).booked).toBe(0);
  });
});

describe.each(cases)('an independent count of random documents under $name', (c: SchemaCase) => {
  it('byDateRange equals a count straight from the raw documents, misfits included in what is written', async () => {
    const { t, db } = started.get(c)!;
    const write = writerFor(db.connection, c);
    const from = addDays(t.hub.reads.today(), 10);
    const sessions = [ids.swim, ids.spin].map(id);
    const bookingArb = fc.record({
      session: fc.constantFrom(...sessions),
      day: fc.integer({ min: 0, max: 4 }),
      quantity: fc.oneof(fc.integer({ min: 1, max: 4 }), fc.constantFrom(0, -1, 1.5, 2.25)),
      status: fc.constantFrom('pending', 'confirmed', 'cancelled', 'expired') as fc.Arbitrary<Status>,
      userId: fc.constantFrom('a', 'b', 'c'),
      // Now and then a field of the other schema's type, or none.
      spoil: fc.constantFrom('none', 'none', 'none', 'none', 'sessionType', 'dateType', 'noStatus', 'noUser'),
    });
    const drawn = fc.sample(bookingArb, { numRuns: 150, seed: 20261201 });
    const docs = drawn.map((b) => {
      const doc = c.bookingDoc({ sessionId: b.session, date: addDays(from, b.day), userId: b.userId, quantity: b.quantity, status: b.status });
      const p = c.paths;
      if (b.spoil === 'sessionType') doc[p.sessionId] = c === defaultCase ? b.session : new Types.ObjectId(b.session);
      if (b.spoil === 'dateType') doc[p.date] = c === defaultCase ? new Date(`${addDays(from, b.day)}T12:00:00Z`) : addDays(from, b.day);
      if (b.spoil === 'noStatus') delete doc[p.status];
      if (b.spoil === 'noUser') {
        delete doc.userId;
        delete (doc.customer as Record<string, unknown> | undefined)?.id;
      }
      return doc;
    });
    for (const doc of docs) await write.raw('bookings', doc);
    await t.hub.feed!.idle();
    const byHand = await countedByHand(db.connection, c);
    // The feed recomputes each key as its writes arrive; waiting for it is waiting for the last key to match.
    const days = await waitFor(
      'the hub to count every written key',
      async () => {
        const range = await t.client().availability.byDateRange.query({ from, to: addDays(from, 4) });
        const rows = range.flatMap((day) => day.sessions);
        return rows.every((row) => row.booked === (byHand.get(keyOf(row)) ?? 0)) ? rows : undefined;
      },
      { timeoutMs: 15_000 },
    ).catch(() => undefined);
    const rows = days ?? (await t.client().availability.byDateRange.query({ from, to: addDays(from, 4) })).flatMap((day) => day.sessions);
    expect(rows.map((row) => [keyOf(row), row.booked])).toEqual(rows.map((row) => [keyOf(row), byHand.get(keyOf(row)) ?? 0]));
    expect(rows.some((row) => row.booked > 0)).toBe(true);
    expect(drawn.some((b) => b.spoil !== 'none')).toBe(true);
  });
});

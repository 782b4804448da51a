import { beforeAll, describe, expect, inject, it } from 'vitest';
import { addDays, keyOf } from '@slotcast/shared';
import { startTestHub, type TestHub } from '../support/hub.ts';
import { connect, subscribe, Received } from '../support/sockets.ts';
import { ids, id } from '../support/fixture.ts';
import { openTestDatabase, testDatabaseUri, testServerUri } from '../support/database.ts';
import { countedByHand, defaultCase, studioCase, writerFor, type SchemaCase } from '../support/schemas.ts';
import { clearOplog } from '../../server/src/devservices/oplog.ts';

/** The change-feed suites run under the default names and under a mapped schema (tests/support/schemas.ts). */
const cases = [defaultCase, studioCase()];

async function setup(c: SchemaCase, env: Record<string, string> = {}) {
  const t = await startTestHub({ redis: true, mongoUri: testDatabaseUri(), env: { COALESCE_MS: '50', ...c.env, ...env } });
  const write = writerFor(t.hub.database.connection, c);
  await write.sessions([
    { _id: ids.swim, name: 'Morning Swim', startTime: '07:00', endTime: '08:00', capacity: 10 },
    { _id: ids.spin, name: 'Evening Spin', startTime: '18:00', endTime: '19:00', capacity: 20 },
  ]);
  await t.hub.feed!.idle();
  const today = t.hub.reads.today();
  const watcher = new Received(await connect(`http://127.0.0.1:${t.hub.port}`));
  watcher.apply(await subscribe(watcher.socket, { channel: 'availability' }));
  for (let i = 1; i <= 3; i += 1) watcher.apply(await subscribe(watcher.socket, { channel: `availability.${addDays(today, i)}` }));
  return { t, today, watcher, write };
}

/** What MongoDB says now, for comparing with what a socket ended up with. */
async function truth(t: TestHub, sessionId: string, date: string) {
  const [row] = await t.hub.reads.snapshots({ from: date, to: date, sessionIds: [sessionId] });
  return row;
}

const hubs = new Map<SchemaCase, Awaited<ReturnType<typeof setup>>>();
// Hubs start at file level: a cleanup registered in a describe's hook after a test has run would be tied to that test.
beforeAll(async () => {
  for (const c of cases) hubs.set(c, await setup(c));
});

describe.each(cases)('change feed (change streams) under $name', (c) => {
  let env: Awaited<ReturnType<typeof setup>>;
  beforeAll(() => {
    env = hubs.get(c)!;
  });

  it('follows inserts, status and quantity changes', async () => {
    const { write, watcher, today } = env;
    const booking = await write.booking({ sessionId: id(ids.swim), date: today, userId: 'u1', quantity: 2, status: 'pending' });
    await watcher.until('insert', (r) => r.get(id(ids.swim), today)?.booked === 2);
    await write.set('bookings', booking, { quantity: 5 });
    await watcher.until('quantity', (r) => r.get(id(ids.swim), today)?.booked === 5);
    await write.set('bookings', booking, { status: 'cancelled' });
    await watcher.until('cancel', (r) => r.get(id(ids.swim), today)?.booked === 0);
    await write.set('bookings', booking, { status: 'confirmed' });
    await watcher.until('confirm', (r) => r.get(id(ids.swim), today)?.booked === 5);
    await write.set('bookings', booking, { status: 'expired' });
    await watcher.until('expire', (r) => r.get(id(ids.swim), today)?.booked === 0);
  });

  it('recomputes both the old and the new key when a booking moves', async () => {
    const { write, watcher, today } = env;
    const tomorrow = addDays(today, 1);
    const booking = await write.booking({ sessionId: id(ids.swim), date: tomorrow, userId: 'u2', quantity: 3, status: 'confirmed' });
    await watcher.until('insert', (r) => r.get(id(ids.swim), tomorrow)?.booked === 3);
    await write.set('bookings', booking, { sessionId: id(ids.spin), date: addDays(today, 2) });
    await watcher.until('the move', (r) => r.get(id(ids.swim), tomorrow)?.booked === 0 && r.get(id(ids.spin), addDays(today, 2))?.booked === 3);
    await write.replaceBooking(booking, { sessionId: id(ids.swim), date: addDays(today, 3), userId: 'u2', quantity: 1, status: 'confirmed' });
    await watcher.until('the replace', (r) => r.get(id(ids.spin), addDays(today, 2))?.booked === 0 && r.get(id(ids.swim), addDays(today, 3))?.booked === 1);
  });

  it('frees places when a booking is deleted', async () => {
    const { write, watcher, today } = env;
    const date = addDays(today, 1);
    const booking = await write.booking({ sessionId: id(ids.spin), date, userId: 'u3', quantity: 4, status: 'confirmed' });
    await watcher.until('insert', (r) => r.get(id(ids.spin), date)?.booked === 4);
    await write.remove('bookings', booking);
    await watcher.until('delete', (r) => r.get(id(ids.spin), date)?.booked === 0);
  });

  it('follows session changes on every date, including closing it', async () => {
    const { write, watcher, today } = env;
    await write.set('sessions', ids.spin, { capacity: 25, name: 'Evening Spin XL' });
    await watcher.until('capacity on every watched date', (r) =>
      [today, addDays(today, 1), addDays(today, 2)].every((date) => r.get(id(ids.spin), date)?.capacity === 25),
    );
    expect(watcher.get(id(ids.spin), today)?.name).toBe('Evening Spin XL');
    await write.set('sessions', ids.spin, { active: false });
    await watcher.until('closed', (r) => r.get(id(ids.spin), today)?.status === 'closed');
    expect((await env.t.hub.reads.byDate(today)).map((row) => row.name)).toEqual(['Morning Swim']);
    await write.set('sessions', ids.spin, { active: true });
    await watcher.until('open again', (r) => r.get(id(ids.spin), today)?.status === 'available');
  });

  it('follows overrides: a closure, a capacity change and their removal', async () => {
    const { write, watcher, today } = env;
    const date = addDays(today, 2);
    const closure = await write.override({ sessionId: id(ids.swim), date, closed: true });
    await watcher.until('closure', (r) => r.get(id(ids.swim), date)?.status === 'closed');
    await write.set('overrides', closure, { closed: false, capacity: 2 });
    await watcher.until('capacity 2', (r) => r.get(id(ids.swim), date)?.capacity === 2);
    await write.remove('overrides', closure);
    await watcher.until('back to the session capacity', (r) => r.get(id(ids.swim), date)?.capacity === 10);
  });

  it('folds a burst of 500 writes on one key into far fewer broadcasts, ending exact', async () => {
    const { write, watcher, t } = env;
    const date = addDays(env.today, 3);
    const before = watcher.updates.length;
    const docs = Array.from({ length: 500 }, (_, i) => ({ sessionId: id(ids.spin), date, userId: `burst-${i}`, quantity: 1, status: 'confirmed' as const, createdAt: new Date(0) }));
    for (let i = 0; i < docs.length; i += 25) await write.bookings(docs.slice(i, i + 25));
    const final = (await countedByHand(t.hub.database.connection, c)).get(keyOf({ sessionId: id(ids.spin), date }));
    expect(final).toBe(500);
    await watcher.until('the final state', (r) => r.get(id(ids.spin), date)?.booked === final);
    await t.hub.feed!.idle();
    const broadcasts = watcher.updates.slice(before).filter((u) => u.sessionId === id(ids.spin) && u.date === date);
    expect(broadcasts.length).toBeLessThan(100);
    expect(watcher.get(id(ids.spin), date)).toMatchObject({ booked: 500, overbooked: true, status: 'full' });
    expect(watcher.versionsStrictlyIncrease()).toBe(true);
    expect(await truth(t, id(ids.spin), date)).toMatchObject({ booked: 500 });
  });
});

describe.each(cases)('change feed (polling mode) under $name', (c) => {
  it('follows bookings and session changes without change streams', async () => {
    const { write, watcher, today, t } = await setup(c, { FEED_MODE: 'poll', POLL_INTERVAL_MS: '100' });
    const booking = await write.booking({ sessionId: id(ids.swim), date: today, userId: 'p1', quantity: 2, status: 'confirmed' });
    await watcher.until('insert', (r) => r.get(id(ids.swim), today)?.booked === 2);
    await write.set('bookings', booking, { date: addDays(today, 1) });
    await watcher.until('move', (r) => r.get(id(ids.swim), today)?.booked === 0 && r.get(id(ids.swim), addDays(today, 1))?.booked === 2);
    await write.set('sessions', ids.swim, { capacity: 12 });
    await watcher.until('capacity', (r) => r.get(id(ids.swim), today)?.capacity === 12);
    expect(await truth(t, id(ids.swim), addDays(today, 1))).toMatchObject({ booked: 2, capacity: 12 });
  });
});

describe('change feed resumed from a position the oplog no longer has', () => {
  it('keeps following, and the new leader\'s resync covers what happened meanwhile', async () => {
    const mongoUri = testDatabaseUri();
    const env = { COALESCE_MS: '20' };
    const { models } = await openTestDatabase(mongoUri);
    const first = await startTestHub({ redis: true, mongoUri, env, captureLogs: true });
    await models.Session.create({ _id: ids.swim, name: 'Morning Swim', startTime: '07:00', endTime: '08:00', capacity: 10 });
    // After this, only the change feed can tell the socket about the booking (and store a token for it).
    await first.waitForLog('the first resync', (line) => line.msg === 'resynced the horizon');
    const today = first.hub.reads.today();
    const early = new Received(await connect(`http://127.0.0.1:${first.hub.port}`));
    early.apply(await subscribe(early.socket, { channel: `availability.${today}` }));
    await models.Booking.create({ sessionId: ids.swim, date: today, userId: 'before', quantity: 1, status: 'confirmed' });
    await early.until('the first booking', (r) => r.get(id(ids.swim), today)?.booked === 1);
    await first.hub.stop(); // stores the resume token of its last batch
    await models.Booking.create({ sessionId: ids.swim, date: today, userId: 'while-down', quantity: 2, status: 'confirmed' });
    // Stands in for a capped oplog that rolled over while no hub ran (this worker's server is ours alone).
    if (inject('mongoIsOurs')) await clearOplog(testServerUri());

    const second = await startTestHub({ redis: true, mongoUri, env: { ...env, REDIS_KEY_PREFIX: first.config.REDIS_KEY_PREFIX }, captureLogs: true });
    await second.waitForLog('the feed resuming from the stored token', (line) => line.msg === 'change feed started');
    expect(second.logs.find((line) => line.msg === 'change feed started')?.resumed).toContain('bookings:true');
    const watcher = new Received(await connect(`http://127.0.0.1:${second.hub.port}`));
    watcher.apply(await subscribe(watcher.socket, { channel: `availability.${today}` }));
    await watcher.until('the write made while no hub ran', (r) => r.get(id(ids.swim), today)?.booked === 3);

    await models.Booking.create({ sessionId: ids.swim, date: today, userId: 'after', quantity: 4, status: 'confirmed' });
    await watcher.until('the write after the restart', (r) => r.get(id(ids.swim), today)?.booked === 7);
  });
});

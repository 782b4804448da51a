import { beforeAll, describe, expect, it } from 'vitest';
import { addDays, type AvailabilityUpdate } from '@slotcast/shared';
import { startTestHub, type TestHub } from '../support/hub.ts';
import { connect, subscribe, Received } from '../support/sockets.ts';
import { ids, id } from '../support/fixture.ts';
import { Waiter } from '../support/waiter.ts';

let t: TestHub;
let today: string;
const swim = id(ids.swim);

beforeAll(async () => {
  t = await startTestHub({ redis: true, env: { COALESCE_MS: '10' } });
  today = t.hub.reads.today();
  await t.hub.database.models.Session.insertMany([
    { _id: ids.swim, name: 'Morning Swim', startTime: '07:00', endTime: '08:00', capacity: 2 },
    { _id: ids.yoga, name: 'Weekend Yoga', startTime: '09:00', endTime: '10:00', capacity: 5, daysOfWeek: [0, 6] },
  ]);
  await t.hub.feed!.idle();
});

const book = (date: string, quantity = 1) => t.hub.database.models.Booking.create({ sessionId: ids.swim, date, quantity, userId: 'range-user', status: 'confirmed' });

describe('the range channel', () => {
  it('snapshots every running session on its dates and follows changes on any of them', async () => {
    const from = addDays(today, 1);
    const to = addDays(today, 7);
    const socket = new Received(await connect(t.hub.url));
    const ack = socket.apply(await subscribe(socket.socket, { channel: `availability.range.${from}.${to}` }));
    expect(ack).toMatchObject({ ok: true, channel: `availability.range.${from}.${to}` });
    const snapshot = ack.ok ? ack.snapshot : [];
    // Swim runs every day, yoga on the two weekend days of any 7-day span.
    expect(snapshot.filter((row) => row.sessionId === swim)).toHaveLength(7);
    expect(snapshot.filter((row) => row.sessionId === id(ids.yoga))).toHaveLength(2);
    expect(snapshot.map((row) => row.date)).toEqual([...snapshot.map((row) => row.date)].sort());
    await book(to);
    await socket.until('the update on the last date', (r) => r.get(swim, to)?.booked === 1);
    await book(addDays(to, 1));
    await book(from);
    await socket.until('the update on the first date', (r) => r.get(swim, from)?.booked === 1);
    expect(socket.updates.some((update) => update.date === addDays(to, 1))).toBe(false);
  });

  it('sends each version once to a socket whose date and range channels overlap, and counts as one subscription', async () => {
    const date = addDays(today, 2);
    const socket = new Received(await connect(t.hub.url));
    for (const channel of [`availability.range.${today}.${addDays(today, 30)}`, `availability.range.${date}.${date}`, `availability.${date}`, 'availability']) {
      expect((await subscribe(socket.socket, { channel })).ok).toBe(true);
    }
    await book(date);
    await socket.until('the update', (r) => r.updates.some((u) => u.date === date));
    await t.hub.feed!.idle();
    const versions = socket.updates.filter((u) => u.date === date).map((u) => u.version);
    expect(new Set(versions).size).toBe(versions.length);
    // Leaving one range keeps the day room the other range and the date channel still need.
    expect(await socket.socket.timeout(5_000).emitWithAck('unsubscribe', { channel: `availability.range.${date}.${date}` })).toEqual({ ok: true });
    const before = socket.updates.length;
    await book(date);
    await socket.until('another update', (r) => r.updates.length > before);
  });

  it('counts a 31-day range as one of the 100 channels a socket may hold', async () => {
    const socket = await connect(t.hub.url);
    expect((await subscribe(socket, { channel: `availability.range.${today}.${addDays(today, 30)}` })).ok).toBe(true);
    for (let i = 0; i < 99; i += 1) expect((await subscribe(socket, { channel: `availability.${addDays(today, 100 + i)}` })).ok).toBe(true);
    expect(await subscribe(socket, { channel: `availability.${addDays(today, 300)}` })).toMatchObject({ ok: false, error: { code: 'TOO_MANY_SUBSCRIPTIONS' } });
  });

  it('refuses bad ranges with INVALID_CHANNEL', async () => {
    const socket = await connect(t.hub.url);
    for (const channel of [
      `availability.range.${addDays(today, 3)}.${today}`,
      `availability.range.${today}.${addDays(today, 31)}`,
      'availability.range.2027-02-30.2027-03-01',
      `availability.range.${today}`,
      `availability.range.${today}.${today}.x`,
      `#day:${today}`,
    ]) {
      expect(await subscribe(socket, { channel })).toMatchObject({ ok: false, error: { code: 'INVALID_CHANNEL' } });
    }
    expect((await subscribe(socket, { channel: `availability.range.${today}.${addDays(today, 30)}` })).ok).toBe(true);
  });

  it('works on SSE too', async () => {
    const date = addDays(today, 3);
    const client = t.client();
    const received: AvailabilityUpdate[] = [];
    const waiter = new Waiter();
    const subscription = client.availability.subscribe.subscribe(
      { channel: `availability.range.${today}.${addDays(today, 6)}` },
      {
        onData: ({ data }) => {
          if (data.type === 'availability.updated') received.push(data.data);
          waiter.wake();
        },
      },
    );
    try {
      await waiter.until('the snapshot', () => received.length >= 7, 10_000);
      await book(date);
      await waiter.until('the live update', () => received.some((u) => u.date === date && u.booked >= 1 && u.reason === 'booking'), 10_000);
    } finally {
      subscription.unsubscribe();
    }
  });
});

describe('places_available', () => {
  it('is raised once when a full key has places again', async () => {
    const date = addDays(today, 5);
    const socket = new Received(await connect(t.hub.url));
    socket.apply(await subscribe(socket.socket, { channel: `availability.${date}` }));
    const first = await book(date, 2);
    await socket.until('full', (r) => r.get(swim, date)?.status === 'full');
    await t.hub.database.models.Booking.updateOne({ _id: first._id }, { $set: { quantity: 1 } });
    await socket.until('places again', (r) => r.alerts.some((a) => a.type === 'places_available' && a.date === date));
    // Still available after another change: no second alert.
    await t.hub.database.models.Booking.updateOne({ _id: first._id }, { $set: { status: 'cancelled' } });
    await socket.until('the cancellation', (r) => r.get(swim, date)?.available === 2);
    await t.hub.feed!.idle();
    expect(socket.alerts.filter((a) => a.type === 'places_available' && a.date === date)).toHaveLength(1);
    expect(socket.alerts.find((a) => a.type === 'places_available')).toMatchObject({ sessionId: swim, capacity: 2, available: 1 });
  });
});

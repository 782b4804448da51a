import { beforeAll, describe, expect, it } from 'vitest';
import type { Types } from 'mongoose';
import { SignJWT } from 'jose';
import { addDays, type BookingStatus } from '@slotcast/shared';
import { startTestHub, type TestHub } from '../support/hub.ts';
import { connect, subscribe, Received } from '../support/sockets.ts';
import { ids, id } from '../support/fixture.ts';
import { defaultCase, studioCase, writerFor, type SchemaCase } from '../support/schemas.ts';

/** The channel suite under the default names and under a mapped schema (tests/support/schemas.ts): bookings written in each layout. */
const schemaCases = [defaultCase, studioCase()];

async function setup(c: SchemaCase) {
  const t = await startTestHub({ redis: true, env: { COALESCE_MS: '20', HIGH_DEMAND_BOOKINGS: '3', LOW_AVAILABILITY_RATIO: '0.2', ...c.env } });
  const write = writerFor(t.hub.database.connection, c);
  await write.sessions([
    { _id: ids.swim, name: 'Morning Swim', startTime: '07:00', endTime: '08:00', capacity: 10 },
    { _id: ids.spin, name: 'Evening Spin', startTime: '18:00', endTime: '19:00', capacity: 20 },
  ]);
  await t.hub.feed!.idle();
  return { t, write };
}

const hubs = new Map<SchemaCase, Awaited<ReturnType<typeof setup>>>();
// Hubs start at file level: a cleanup registered in a describe's hook after a test has run would be tied to that test.
beforeAll(async () => {
  for (const c of schemaCases) hubs.set(c, await setup(c));
});

describe.each(schemaCases)('under $name', (c) => {
  let t: TestHub;
  let url: string;
  let today: string;
  let write: ReturnType<typeof writerFor>;

  beforeAll(() => {
    ({ t, write } = hubs.get(c)!);
    url = `http://127.0.0.1:${t.hub.port}`;
    // The hub's today, in its TIMEZONE (Europe/Paris for the mapped schema).
    today = t.hub.reads.today();
  });

  /** A booking as another program writes it, in this schema's layout; answers its id. */
  async function book(sessionId: Types.ObjectId, date: string, quantity = 1, userId = 'user-1', status: BookingStatus = 'confirmed') {
    return write.booking({ sessionId: id(sessionId), date, quantity, userId, status });
  }

  describe('handshake', () => {
    it('lets anonymous sockets in and refuses bad tokens with UNAUTHORIZED', async () => {
      await expect(connect(url)).resolves.toBeDefined();
      const wrong = await new SignJWT({ roles: [] }).setProtectedHeader({ alg: 'HS256' }).setSubject('u').setExpirationTime('1h').sign(new TextEncoder().encode('x'.repeat(40)));
      const expired = await t.token('u', [], -10);
      for (const token of [wrong, expired, 'garbage']) {
        await expect(connect(url, { token })).rejects.toMatchObject({ message: 'UNAUTHORIZED' });
      }
    });

    it('drops a socket when its token expires, and keeps one whose token was replaced', async () => {
      const short = await t.token('user-exp', [], '2s');
      const dropped = await connect(url, { token: short });
      const kept = await connect(url, { token: await t.token('user-keep', [], '2s') });
      const replaced = await kept.timeout(5_000).emitWithAck('auth', { token: await t.token('user-keep', [], '1h') });
      expect(replaced).toMatchObject({ ok: true });
      const foreign = await kept.timeout(5_000).emitWithAck('auth', { token: await t.token('someone-else') });
      expect(foreign).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
      const reason = await new Promise<string>((resolve) => dropped.once('disconnect', resolve));
      expect(reason).toBe('io server disconnect');
      expect(kept.connected).toBe(true);
    });
  });

  describe('subscribe', () => {
    it('answers each channel kind with its snapshot', async () => {
      const socket = await connect(url);
      const global = await subscribe(socket, { channel: 'availability' });
      expect(global).toMatchObject({ ok: true, channel: 'availability' });
      expect(global.ok && global.snapshot.map((row) => [row.name, row.date])).toEqual([
        ['Morning Swim', today],
        ['Evening Spin', today],
      ]);
      const date = await subscribe(socket, { channel: 'availability.2030-06-01' });
      expect(date.ok && date.snapshot.every((row) => row.date === '2030-06-01')).toBe(true);
      const session = await subscribe(socket, { channel: `availability.session.${id(ids.spin).toUpperCase()}` });
      expect(session).toMatchObject({ ok: true, channel: `availability.session.${id(ids.spin)}` });
      expect(session.ok && session.snapshot.map((row) => row.date)).toEqual(Array.from({ length: 7 }, (_, i) => addDays(today, i)));
    });

    it('gives a user channel to its owner, with the owner\'s upcoming bookings', async () => {
      await book(ids.spin, addDays(today, 2), 1, 'user-42');
      await book(ids.swim, addDays(today, -3), 1, 'user-42');
      await t.hub.feed!.idle();
      const owner = await connect(url, { token: await t.token('user-42') });
      const ack = await subscribe(owner, { channel: 'availability.user.user-42' });
      expect(ack.ok && ack.snapshot.map((row) => [row.sessionId, row.date])).toEqual([[id(ids.spin), addDays(today, 2)]]);
      const other = await connect(url, { token: await t.token('user-43') });
      expect(await subscribe(other, { channel: 'availability.user.user-42' })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
      const anonymous = await connect(url);
      expect(await subscribe(anonymous, { channel: 'availability.user.user-42' })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    });

    it.each([
      [null],
      ['availability'],
      [{}],
      [{ channel: 42 }],
      [{ channel: { $gt: '' } }],
      [{ channel: ['availability'] }],
      [{ channel: 'availability.2025-02-30' }],
      [{ channel: 'availability.session.xyz' }],
      [{ channel: `availability.${'x'.repeat(300)}` }],
      [{ channel: 'rooms.admin' }],
    ])('refuses %j with INVALID_CHANNEL', async (request) => {
      const socket = await connect(url);
      expect(await subscribe(socket, request)).toMatchObject({ ok: false, error: { code: 'INVALID_CHANNEL' } });
      expect(socket.connected).toBe(true);
    });

    it('answers NOT_FOUND for an unknown session and leaves the room', async () => {
      const socket = await connect(url);
      expect(await subscribe(socket, { channel: `availability.session.${ids.unknown}` })).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    });

    it('holds at most 100 channels per socket', async () => {
      const socket = await connect(url);
      const acks = await Promise.all(Array.from({ length: 101 }, (_, i) => subscribe(socket, { channel: `availability.${addDays('2031-01-01', i)}` })));
      expect(acks.filter((ack) => ack.ok)).toHaveLength(100);
      expect(acks.filter((ack) => !ack.ok)).toEqual([{ ok: false, error: expect.objectContaining({ code: 'TOO_MANY_SUBSCRIPTIONS' }) }]);
      // Subscribing again to a held channel is fine.
      expect(await subscribe(socket, { channel: 'availability.2031-01-01' })).toMatchObject({ ok: true });
    });

    it('rate-limits a flood and stays up', async () => {
      const socket = await connect(url);
      const acks = await Promise.all(Array.from({ length: 200 }, () => subscribe(socket, { channel: 'availability' })));
      expect(acks.filter((ack) => !ack.ok).every((ack) => !ack.ok && ack.error.code === 'RATE_LIMITED')).toBe(true);
      expect(acks.filter((ack) => !ack.ok).length).toBeGreaterThanOrEqual(50);
      const fresh = await connect(url);
      expect(await subscribe(fresh, { channel: 'availability' })).toMatchObject({ ok: true });
    });

    it('drops a socket that sends an oversized payload; others carry on', async () => {
      const big = await connect(url);
      const bystander = await connect(url);
      const gone = new Promise<string>((resolve) => big.once('disconnect', resolve));
      big.emit('subscribe', { channel: 'x'.repeat(64 * 1024) }, () => undefined);
      expect(await gone).toMatch(/transport close|transport error/);
      expect(await subscribe(bystander, { channel: 'availability' })).toMatchObject({ ok: true });
    });
  });

  describe('delivery', () => {
    it('sends each version once to a socket in several matching rooms, and stops after unsubscribe', async () => {
      const date = addDays(today, 1);
      const socket = await connect(url);
      const received = new Received(socket);
      for (const channel of ['availability', `availability.${date}`, `availability.session.${id(ids.spin)}`]) {
        received.apply(await subscribe(socket, { channel }));
      }
      const before = received.get(id(ids.spin), date)!;
      await book(ids.spin, date, 2);
      await received.until('the update', (r) => (r.get(id(ids.spin), date)?.booked ?? 0) === before.booked + 2);
      await t.hub.feed!.idle();
      const forKey = received.updates.filter((u) => u.sessionId === id(ids.spin) && u.date === date);
      expect(forKey.map((u) => u.reason)).toEqual(['booking']);

      for (const channel of ['availability', `availability.${date}`, `availability.session.${id(ids.spin)}`]) {
        expect(await socket.timeout(5_000).emitWithAck('unsubscribe', { channel })).toEqual({ ok: true });
      }
      const watcher = new Received(await connect(url));
      watcher.apply(await subscribe(watcher.socket, { channel: `availability.${date}` }));
      await book(ids.spin, date, 1);
      await watcher.until('the next update elsewhere', (r) => r.updates.length > 0);
      await t.hub.feed!.idle();
      expect(received.updates.filter((u) => u.sessionId === id(ids.spin) && u.date === date)).toHaveLength(1);
    });

    it('tells the owner about their booking and sends them updates of sessions they hold', async () => {
      const date = addDays(today, 3);
      const owner = new Received(await connect(url, { token: await t.token('user-77') }));
      owner.apply(await subscribe(owner.socket, { channel: 'availability.user.user-77' }));
      const booking = await book(ids.swim, date, 2, 'user-77', 'pending');
      await owner.until('booking.updated', (r) => r.bookings.length === 1);
      expect(owner.bookings[0]).toMatchObject({
        bookingId: String(booking),
        sessionId: id(ids.swim),
        date,
        status: 'pending',
        quantity: 2,
        availability: { sessionId: id(ids.swim), date, booked: 2 },
      });
      // Someone else's booking on the same session and date reaches the owner as an availability update.
      await book(ids.swim, date, 1, 'user-78');
      await owner.until('the availability update', (r) => r.get(id(ids.swim), date)?.booked === 3);
      expect(owner.bookings).toHaveLength(1);
    });

    it('raises an alert when its condition begins, not on every update', async () => {
      const date = addDays(today, 4);
      const staff = new Received(await connect(url));
      staff.apply(await subscribe(staff.socket, { channel: `availability.${date}` }));
      await book(ids.swim, date, 8); // 2 of 10 left: low
      await staff.until('low', (r) => r.alerts.some((a) => a.type === 'low_availability'));
      await book(ids.swim, date, 1); // still low: no new alert
      await staff.until('the update', (r) => r.get(id(ids.swim), date)?.booked === 9);
      await book(ids.swim, date, 1); // full
      await staff.until('no availability', (r) => r.alerts.some((a) => a.type === 'no_availability'));
      await t.hub.feed!.idle();
      expect(staff.alerts.filter((a) => a.sessionId === id(ids.swim)).map((a) => a.type)).toEqual([
        'low_availability',
        'no_availability',
        'high_demand',
      ]);
    });
  });
});

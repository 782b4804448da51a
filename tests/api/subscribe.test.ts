import { beforeAll, describe, expect, it } from 'vitest';
import { Types } from 'mongoose';
import { SAT, SUN, id, ids, writeFixture } from '../support/fixture.ts';
import { startTestHub, type TestHub } from '../support/hub.ts';
import { openStream } from '../support/stream.ts';
import { testDatabaseUri } from '../support/database.ts';

let a: TestHub;
let b: TestHub;

beforeAll(async () => {
  const mongoUri = testDatabaseUri();
  // These tests drive the engine by hand, so no change feed runs.
  a = await startTestHub({ redis: true, mongoUri, seams: { changeFeed: false } });
  // A second instance on the same database and Redis prefix, as behind a load balancer.
  b = await startTestHub({ redis: true, mongoUri, seams: { changeFeed: false }, env: { REDIS_KEY_PREFIX: a.config.REDIS_KEY_PREFIX } });
  await writeFixture(a.hub.database.models);
});

/** Writes a booking straight into MongoDB, then recomputes as the change feed would. */
async function book(hub: TestHub, sessionId: string, date: string, quantity = 1, userId = 'user-1') {
  await hub.hub.database.models.Booking.collection.insertOne({
    sessionId: new Types.ObjectId(sessionId),
    date,
    quantity,
    status: 'confirmed',
    userId,
    createdAt: new Date(),
    updatedAt: new Date(),
  });
  return hub.hub.writes.recompute([{ sessionId, date }], 'booking');
}

describe('availability.subscribe over SSE', () => {
  it('sends the snapshot first, then live changes from any instance', async () => {
    const stream = openStream(b.client(), `availability.${SAT}`);
    const snapshot = await stream.until('the snapshot', (events) => events.length >= 3);
    expect(snapshot.map((event) => event.data.type)).toEqual(['availability.updated', 'availability.updated', 'availability.updated']);
    expect(snapshot.map((event) => (event.data.data as { name: string }).name)).toEqual(['Morning Swim', 'Weekend Yoga', 'Evening Spin']);
    expect(snapshot[0]!.id).toMatch(/:s0$/);
    expect(snapshot[2]!.id).toMatch(/^\d+-\d+$/);

    await book(a, id(ids.spin), SAT, 2);
    const [live] = (await stream.until('the live update', (events) => events.length >= 4)).slice(3);
    expect(live!.data).toMatchObject({ type: 'availability.updated', data: { sessionId: id(ids.spin), booked: 5, reason: 'booking' } });
    stream.close();
  });

  it('resumes from lastEventId with no gap and no duplicate', async () => {
    const first = openStream(a.client(), `availability.session.${id(ids.spin)}`);
    await first.until('the snapshot', (events) => events.length >= 7);
    await book(a, id(ids.spin), SUN);
    const seen = await first.until('one live event', (events) => events.length >= 8);
    const lastId = seen.at(-1)!.id;
    first.close();

    // Three changes while nobody listens, one on another session that must not appear.
    await book(a, id(ids.spin), SUN);
    await book(a, id(ids.swim), SUN);
    await book(b, id(ids.spin), SUN);
    await book(a, id(ids.spin), SAT);

    const resumed = openStream(b.client(), `availability.session.${id(ids.spin)}`, lastId);
    const events = await resumed.until('the missed events', (got) => got.length >= 3);
    await book(a, id(ids.spin), SUN);
    const all = await resumed.until('the next live event', (got) => got.length >= 4);
    const booked = all.map((event) => (event.data.data as { booked: number; date: string }).date + ':' + (event.data.data as { booked: number }).booked);
    expect(all.every((event) => event.data.type === 'availability.updated' && (event.data.data as { sessionId: string }).sessionId === id(ids.spin))).toBe(true);
    expect(new Set(all.map((event) => event.id)).size).toBe(all.length);
    expect(booked).toEqual([`${SUN}:5`, `${SUN}:6`, `${SAT}:6`, `${SUN}:7`]);
    expect(events[0]!.id > lastId).toBe(true);
    resumed.close();
  });

  it('starts over with a snapshot when the last id was inside a snapshot or is unknown', async () => {
    for (const lastEventId of ['1-0:s0', '99999999999999-0', 'garbage']) {
      const stream = openStream(a.client(), `availability.${SAT}`, lastEventId);
      const events = await stream.until('a snapshot', (got) => got.length >= 3);
      expect(events.slice(0, 3).every((event) => (event.data.data as { reason: string }).reason === 'refresh')).toBe(true);
      stream.close();
    }
  });

  it('gives a user channel only to that user, with the user\'s bookings', async () => {
    const own = openStream(a.client(await a.token('user-7')), 'availability.user.user-7');
    await own.started;
    await book(a, id(ids.swim), '2099-01-01', 1, 'user-7');
    const events = await own.until('the update of a session the user holds', (got) => got.some((e) => e.data.type === 'availability.updated'));
    expect(events.at(-1)!.data.data).toMatchObject({ sessionId: id(ids.swim), date: '2099-01-01' });
    own.close();

    const foreign = openStream(a.client(await a.token('user-8')), 'availability.user.user-7');
    await expect(foreign.until('an error', () => false, 5_000)).rejects.toMatchObject({ data: { code: 'FORBIDDEN' } });
    const anonymous = openStream(a.client(), 'availability.user.user-7');
    await expect(anonymous.until('an error', () => false, 5_000)).rejects.toMatchObject({ data: { code: 'UNAUTHORIZED' } });
  });

  it('refuses bad channels and unknown sessions', async () => {
    for (const [channel, code] of [
      ['availability.nope', 'BAD_REQUEST'],
      ['availability.2025-02-30', 'BAD_REQUEST'],
      [`availability.session.${ids.unknown}`, 'NOT_FOUND'],
    ] as const) {
      const stream = openStream(a.client(), channel);
      await expect(stream.until('an error', () => false, 5_000)).rejects.toMatchObject({ data: { code } });
    }
  });
});

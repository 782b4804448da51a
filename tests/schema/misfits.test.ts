import { beforeAll, describe, expect, it } from 'vitest';
import { Types } from 'mongoose';
import { addDays, keyOf } from '@slotcast/shared';
import { openTestDatabase } from '../support/database.ts';
import { startTestHub, type TestHub } from '../support/hub.ts';
import { connect, subscribe, Received } from '../support/sockets.ts';
import { id, ids } from '../support/fixture.ts';
import { waitFor } from '../support/events.ts';
import { countedByHand, defaultCase, studioCase, writerFor, type SchemaCase } from '../support/schemas.ts';

type Raw = Record<string, unknown>;
interface Kind {
  reason: string;
  part: 'sessions' | 'bookings' | 'overrides';
  /** A document of this case's layout on `date`, broken in one way. */
  make(date: string): Raw;
}

const HEX = 'abcdef0123456789abcdef01';

/** Every way a document can fail the schema in force, under each case; booked quantities are 5 so a count that took one would show. */
function kindsOf(c: SchemaCase): Kind[] {
  const good = (date: string, extra: Partial<{ quantity: number; userId: string }> = {}) =>
    c.bookingDoc({ sessionId: id(ids.swim), date, userId: 'misfit-user', quantity: 5, status: 'confirmed', ...extra });
  const without = (doc: Raw, path: string): Raw => {
    const [head, ...rest] = path.split('.');
    if (rest.length === 0) return Object.fromEntries(Object.entries(doc).filter(([k]) => k !== head));
    return { ...doc, [head!]: without(doc[head!] as Raw, rest.join('.')) };
  };
  const p = c.paths;
  const booking = (reason: string, make: (date: string) => Raw): Kind => ({ reason, part: 'bookings', make });
  const common: Kind[] = [
    booking('missing:status', (date) => without(good(date), p.status)),
    booking('invalid:quantity', (date) => ({ ...good(date), [p.quantity]: 1.5 })),
    booking('invalid:quantity', (date) => ({ ...good(date), [p.quantity]: 0 })),
    booking('mistyped:quantity', (date) => ({ ...good(date), [p.quantity]: '5' })),
    booking('missing:userId', (date) => without(good(date), p.userId)),
    booking('missing:sessionId', (date) => without(good(date), p.sessionId)),
    { reason: 'mistyped:capacity', part: 'sessions', make: () => ({ ...c.sessionDoc({ _id: new Types.ObjectId(), name: 'Misfit class', startTime: '12:00', endTime: '13:00', capacity: 1 }), [c.name === defaultCase.name ? 'capacity' : 'places']: '10' }) },
    { reason: 'invalid:capacity', part: 'overrides', make: (date) => c.overrideDoc({ sessionId: id(ids.swim), date, capacity: -1 }) },
  ];
  if (c.name === defaultCase.name) {
    return [
      ...common,
      // The outside writer's mistakes seen before: a hex string for an ObjectId, a BSON Date for a string day, a day that does not exist.
      booking('mistyped:sessionId', (date) => ({ ...good(date), sessionId: HEX })),
      booking('mistyped:date', (date) => ({ ...good(date), date: new Date(`${date}T10:00:00Z`) })),
      // A year ahead, so it is within what the take-over reads (from yesterday on).
      booking('invalid:date', (date) => ({ ...good(date), date: `${Number(date.slice(0, 4)) + 1}-02-30` })),
    ];
  }
  return [
    ...common,
    booking('mistyped:sessionId', (date) => ({ ...good(date), classId: new Types.ObjectId(id(ids.swim)) })),
    booking('invalid:sessionId', (date) => ({ ...good(date), classId: 'swim-class' })),
    booking('mistyped:date', (date) => ({ ...good(date), day: date })),
  ];
}

/** `slotcast_misfit_documents_total` by `collection/reason`, from the hub's /metrics. */
async function misfitCounts(t: TestHub): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${t.hub.port}/metrics`)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n').filter((l) => l.startsWith('slotcast_misfit_documents_total{'))) {
    const collection = /collection="([^"]+)"/.exec(line)![1];
    const reason = /reason="([^"]+)"/.exec(line)![1];
    out.set(`${collection}/${reason}`, Number(line.split(' ').at(-1)));
  }
  return out;
}

const expected = (c: SchemaCase, kinds: Kind[], times: number) => {
  const out = new Map<string, number>();
  for (const kind of kinds) {
    const key = `${c.collections[kind.part]}/${kind.reason}`;
    out.set(key, (out.get(key) ?? 0) + times);
  }
  return out;
};

const cases = [defaultCase, studioCase()];
const started = new Map<SchemaCase, { t: TestHub; db: Awaited<ReturnType<typeof openTestDatabase>>; before: string }>();

beforeAll(async () => {
  for (const c of cases) {
    const db = await openTestDatabase(undefined, { syncIndexes: false });
    const write = writerFor(db.connection, c);
    await write.sessions([{ _id: ids.swim, name: 'Morning Swim', startTime: '07:00', endTime: '08:00', capacity: 10 }]);
    // The day of the documents written before start-up: within the feed's horizon, so the take-over's scan reads them.
    const before = addDays(new Date().toISOString().slice(0, 10), 3);
    await write.bookings([{ sessionId: id(ids.swim), date: before, userId: 'good-user', quantity: 2, status: 'confirmed' }]);
    for (const kind of kindsOf(c)) await write.raw(kind.part, kind.make(before));
    const t = await startTestHub({ redis: true, mongoUri: db.uri, captureLogs: true, env: { COALESCE_MS: '20', ...c.env } });
    await t.hub.feed!.idle();
    started.set(c, { t, db, before });
  }
});

describe.each(cases)('documents that do not fit, under $name', (c: SchemaCase) => {
  it('written before start-up: counted in no availability, logged with id and reason, in /metrics by reason', async () => {
    const { t, db, before } = started.get(c)!;
    const kinds = kindsOf(c);
    const [swim, ...others] = await t.client().availability.byDate.query({ date: before });
    // Only the good booking counts; the broken session is not listed; the broken override changes nothing.
    expect(swim).toMatchObject({ name: 'Morning Swim', capacity: 10, booked: 2 });
    expect(others).toEqual([]);
    expect((await countedByHand(db.connection, c)).get(keyOf({ sessionId: id(ids.swim), date: before }))).toBe(2);
    await t.waitForLog('the misfit log line', (line) => line.msg.startsWith('a document does not fit') && line.reason === 'missing:status' && typeof line.id === 'string');
    expect(await misfitCounts(t)).toEqual(expected(c, kinds, 1));
  });

  it('written live: no count changes, no event claims a state, and /metrics counts them by reason', async () => {
    const { t, db } = started.get(c)!;
    const kinds = kindsOf(c);
    const date = addDays(t.hub.reads.today(), 4);
    const url = `http://127.0.0.1:${t.hub.port}`;
    const watcher = new Received(await connect(url));
    watcher.apply(await subscribe(watcher.socket, { channel: `availability.${date}` }));
    const owner = new Received(await connect(url, { token: await t.token('misfit-user') }));
    owner.apply(await subscribe(owner.socket, { channel: 'availability.user.misfit-user' }));
    const write = writerFor(db.connection, c);
    for (const kind of kinds) await write.raw(kind.part, kind.make(date));
    // A good booking of the same owner after them: the feed handles a collection's events in order, so once its event
    // arrives, the misfits' would have arrived before it.
    const barrier = new Types.ObjectId();
    await write.bookings([{ _id: barrier, sessionId: id(ids.swim), date, userId: 'misfit-user', quantity: 1, status: 'confirmed' }]);
    await watcher.until('the good booking', (r) => r.get(id(ids.swim), date)?.booked === 1);
    await owner.until('the good booking’s event', (r) => r.bookings.length > 0);
    const want = expected(c, kinds, 2);
    // Sessions and overrides are other collections, with their own streams: their misfits are waited for, not assumed.
    const same = (a: Map<string, number>) => JSON.stringify([...a].sort()) === JSON.stringify([...want].sort());
    await waitFor('every misfit counted', async () => same(await misfitCounts(t)) || undefined, { timeoutMs: 15_000 }).catch(() => undefined);
    expect(await misfitCounts(t)).toEqual(want);
    // Before: a hex-string sessionId told its owner "confirmed, quantity 5"; a booking without status was sent as "undefined".
    expect(owner.bookings.map((update) => [update.bookingId, update.status, update.quantity])).toEqual([[String(barrier), 'confirmed', 1]]);
    const [swim, ...others] = await t.client().availability.byDate.query({ date });
    expect(swim).toMatchObject({ capacity: 10, booked: 1, status: 'available' });
    expect(others).toEqual([]);
    expect((await countedByHand(db.connection, c)).get(keyOf({ sessionId: id(ids.swim), date }))).toBe(1);
  });
});

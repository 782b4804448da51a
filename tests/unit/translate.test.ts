import { describe, expect, it } from 'vitest';
import { Counter } from 'prom-client';
import { Types } from 'mongoose';
import { MemoryKeyIndex } from '../../server/src/feed/key-index.ts';
import { documentId, horizonOf, touches, translateBookings, translateOverrides, translateSessions } from '../../server/src/feed/translate.ts';
import { DocumentMapping } from '../../server/src/schema/documents.ts';
import { DEFAULT_SCHEMA } from '../../server/src/schema/mapping.ts';
import { Misfits } from '../../server/src/schema/misfits.ts';

/** The default names, with session ids stored as hex strings, so the documents below can be plain objects. */
const mapping = new DocumentMapping({ ...DEFAULT_SCHEMA, types: { sessionId: 'string', date: 'string' } }, 'UTC');

const S1 = 'a'.repeat(24);
const S2 = 'b'.repeat(24);
const booking = (id: string, sessionId: string, date: string, extra: Record<string, unknown> = {}) => ({
  _id: id,
  sessionId,
  date,
  userId: 'u1',
  quantity: 2,
  status: 'confirmed',
  ...extra,
});

describe('documentId', () => {
  it('prefers the looked-up document, since the wire server puts the update in documentKey', () => {
    expect(documentId({ operationType: 'update', documentKey: { _id: { $set: { x: 1 } } }, fullDocument: { _id: 'b1' } })).toBe('b1');
    expect(documentId({ operationType: 'delete', documentKey: { _id: 'b2' } })).toBe('b2');
    expect(documentId({ operationType: 'update', documentKey: { _id: { $set: { x: 1 } } }, fullDocument: null })).toBeUndefined();
  });
});

describe('translateBookings', () => {
  it('recomputes the new key and tells the owner', async () => {
    const index = new MemoryKeyIndex();
    const { work, needsResync } = await translateBookings([{ operationType: 'insert', fullDocument: booking('b1', S1, '2026-11-24') }], index, mapping);
    expect(needsResync).toBeUndefined();
    expect(work).toEqual([
      {
        key: { sessionId: S1, date: '2026-11-24' },
        reason: 'booking',
        booking: { bookingId: 'b1', userId: 'u1', sessionId: S1, date: '2026-11-24', status: 'confirmed', quantity: 2 },
      },
    ]);
    expect(await index.get(['b1'])).toEqual([{ sessionId: S1, date: '2026-11-24' }]);
  });

  it('recomputes the old key too when a booking moves, from the index or a pre-image', async () => {
    const index = new MemoryKeyIndex();
    await index.set([['b1', { sessionId: S1, date: '2026-11-24' }]]);
    const moved = await translateBookings([{ operationType: 'update', fullDocument: booking('b1', S2, '2026-11-25') }], index, mapping);
    expect(moved.work.map((w) => w.key)).toEqual([{ sessionId: S2, date: '2026-11-25' }, { sessionId: S1, date: '2026-11-24' }]);
    const withPreImage = await translateBookings(
      [{ operationType: 'update', fullDocument: booking('b9', S2, '2026-11-26'), fullDocumentBeforeChange: booking('b9', S1, '2026-11-20') }],
      new MemoryKeyIndex(),
      mapping,
    );
    expect(withPreImage.work.map((w) => w.key.date)).toEqual(['2026-11-26', '2026-11-20']);
  });

  it('follows several moves of one booking in one batch', async () => {
    const index = new MemoryKeyIndex();
    await index.set([['b1', { sessionId: S1, date: '2026-11-01' }]]);
    const { work } = await translateBookings(
      [
        { operationType: 'update', fullDocument: booking('b1', S1, '2026-11-02') },
        { operationType: 'update', fullDocument: booking('b1', S1, '2026-11-03') },
      ],
      index,
      mapping,
    );
    expect(work.map((w) => w.key.date).sort()).toEqual(['2026-11-01', '2026-11-02', '2026-11-02', '2026-11-03']);
    expect(await index.get(['b1'])).toEqual([{ sessionId: S1, date: '2026-11-03' }]);
  });

  it('uses the index for deletes and asks for a resync when the old key is unknown', async () => {
    const index = new MemoryKeyIndex();
    await index.set([['b1', { sessionId: S1, date: '2026-11-24' }]]);
    const known = await translateBookings([{ operationType: 'delete', documentKey: { _id: 'b1' }, fullDocument: null }], index, mapping);
    expect(known).toEqual({ work: [{ key: { sessionId: S1, date: '2026-11-24' }, reason: 'booking' }], needsResync: undefined });
    expect(await index.get(['b1'])).toEqual([undefined]);
    const unknown = await translateBookings([{ operationType: 'delete', documentKey: { _id: 'zz' }, fullDocument: null }], index, mapping);
    expect(unknown.work).toEqual([]);
    expect(unknown.needsResync).toMatch(/unknown earlier key/);
  });
});

describe('translateOverrides and translateSessions', () => {
  it('recomputes an override\'s keys with the override reason', async () => {
    const index = new MemoryKeyIndex();
    const { work } = await translateOverrides([{ operationType: 'insert', fullDocument: { _id: 'o1', sessionId: S1, date: '2026-12-01', closed: true } }], index, mapping);
    expect(work).toEqual([{ key: { sessionId: S1, date: '2026-12-01' }, reason: 'override' }]);
  });

  it('recomputes every date of the horizon for a changed session', () => {
    const horizon = horizonOf('2026-11-24', 2);
    expect(horizon).toEqual({ from: '2026-11-23', to: '2026-11-26' });
    const { work, needsResync } = translateSessions([{ operationType: 'update', fullDocument: { _id: S1.toUpperCase() } }], horizon);
    expect(work.map((w) => `${w.key.sessionId === S1}:${w.key.date}:${w.reason}`)).toEqual([
      'true:2026-11-23:session',
      'true:2026-11-24:session',
      'true:2026-11-25:session',
      'true:2026-11-26:session',
    ]);
    expect(needsResync).toBeUndefined();
    expect(translateSessions([{ operationType: 'update', documentKey: { _id: { $set: {} } }, fullDocument: null }], horizon).needsResync).toBeDefined();
  });
});

describe('documents that do not fit, in the feed', () => {
  const strict = new DocumentMapping(DEFAULT_SCHEMA, 'UTC');
  const oid = new Types.ObjectId(S1);

  it('tells no owner of a booking without status, a hex-string sessionId or a fractional quantity, and counts each', async () => {
    const counter = new Counter({ name: 'misfits_test', help: 'test', labelNames: ['collection', 'reason'] as const, registers: [] });
    const counted = new DocumentMapping(DEFAULT_SCHEMA, 'UTC', new Misfits(counter, undefined));
    const index = new MemoryKeyIndex();
    const { work } = await translateBookings(
      [
        { operationType: 'insert', fullDocument: { _id: 'm1', sessionId: oid, date: '2026-11-24', userId: 'u1', quantity: 5 } },
        { operationType: 'insert', fullDocument: { _id: 'm2', sessionId: S1, date: '2026-11-24', userId: 'u1', quantity: 5, status: 'confirmed' } },
        { operationType: 'insert', fullDocument: { _id: 'm3', sessionId: oid, date: '2026-11-24', userId: 'u1', quantity: 1.5, status: 'confirmed' } },
      ],
      index,
      counted,
    );
    expect(work.filter((w) => 'booking' in w && w.booking)).toEqual([]);
    // A readable key is still recomputed (the document may have counted there before); an unreadable one is not made up.
    expect(work.map((w) => w.key)).toEqual([
      { sessionId: S1, date: '2026-11-24' },
      { sessionId: S1, date: '2026-11-24' },
    ]);
    const counts = (await counter.get()).values.map((v) => [v.labels.collection, v.labels.reason, v.value]);
    expect(counts).toEqual([
      ['bookings', 'missing:status', 1],
      ['bookings', 'mistyped:sessionId', 1],
      ['bookings', 'invalid:quantity', 1],
    ]);
    // Seen again (a resync, a later poll): not counted again.
    await translateBookings([{ operationType: 'update', fullDocument: { _id: 'm1', sessionId: oid, date: '2026-11-24', userId: 'u1', quantity: 5 } }], index, counted);
    expect((await counter.get()).values.find((v) => v.labels.reason === 'missing:status')?.value).toBe(1);
    expect(await index.get(['m1', 'm2', 'm3'])).toEqual([{ sessionId: S1, date: '2026-11-24' }, undefined, { sessionId: S1, date: '2026-11-24' }]);
  });

  it('recomputes the old key of a booking whose key stopped fitting, and forgets it', async () => {
    const index = new MemoryKeyIndex();
    await index.set([['b1', { sessionId: S1, date: '2026-11-24' }]]);
    const { work, needsResync } = await translateBookings(
      [{ operationType: 'update', fullDocument: { _id: 'b1', sessionId: oid, date: new Date(), userId: 'u1', quantity: 1, status: 'confirmed' } }],
      index,
      strict,
    );
    expect(work).toEqual([{ key: { sessionId: S1, date: '2026-11-24' }, reason: 'booking' }]);
    expect(needsResync).toBeUndefined();
    expect(await index.get(['b1'])).toEqual([undefined]);
  });

  it('sees a key field changed through a dotted path, a parent replaced or a field removed', () => {
    const update = (updatedFields: Record<string, unknown>, removedFields: string[] = []) => ({ operationType: 'update', updateDescription: { updatedFields, removedFields } });
    expect(touches(update({ 'slot.day': 1 }), ['slot.day'])).toBe(true);
    expect(touches(update({ slot: {} }), ['slot.day'])).toBe(true);
    expect(touches(update({}, ['classId']), ['classId'])).toBe(true);
    expect(touches(update({ 'slot.dayNote': 1, seats: 2 }), ['slot.day', 'classId'])).toBe(false);
  });
});

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Types } from 'mongoose';
import fc from 'fast-check';
import { ConfigError, loadConfig } from '../../server/src/config/env.ts';
import { DEFAULT_SCHEMA, parseMapping } from '../../server/src/schema/mapping.ts';
import { DocumentMapping } from '../../server/src/schema/documents.ts';
import { zonedMidnight } from '../../server/src/schema/zoned.ts';
import { STUDIO_MAPPING } from '../support/schemas.ts';

const dir = mkdtempSync(join(tmpdir(), 'slotcast-mapping-'));
const file = (name: string, content: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
};
const errorOf = (content: unknown): string => {
  try {
    loadConfig({ SCHEMA_FILE: file(`m${Math.random()}.json`, content) });
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error('no error');
};

describe('SCHEMA_FILE', () => {
  it('unset: the default names, and the hub keeps its own behaviour', () => {
    expect(loadConfig({}).SCHEMA_FILE).toBeUndefined();
    expect(DEFAULT_SCHEMA).toMatchObject({ mapped: false, bookings: { collection: 'bookings', activeStatuses: ['pending', 'confirmed'] }, types: { sessionId: 'objectId', date: 'string' } });
  });

  it('fills what a mapping leaves out with the default names', () => {
    const schema = loadConfig({ SCHEMA_FILE: file('partial.json', { bookings: { collection: 'reservations', fields: { date: 'slot.day' } } }) }).SCHEMA_FILE!;
    expect(schema.mapped).toBe(true);
    expect(schema.bookings).toMatchObject({ collection: 'reservations', fields: { date: 'slot.day', sessionId: 'sessionId', status: 'status' }, writeStatuses: { confirmed: 'confirmed', cancelled: 'cancelled' } });
    expect(schema.sessions).toEqual(DEFAULT_SCHEMA.sessions);
    expect(parseMapping(STUDIO_MAPPING).bookings.activeStatuses).toEqual(['held', 'paid']);
  });

  it.each([
    [{ bookings: { collection: 5 } }, 'bookings.collection: expected a string'],
    [{ bookngs: {} }, 'bookngs: is not a key of the mapping'],
    [{ bookings: { fields: { colour: 'x' } } }, 'bookings.fields.colour: is not a key of the mapping'],
    [{ bookings: { fields: { date: 'slot..day' } } }, 'bookings.fields.date: must be a field path'],
    [{ bookings: { fields: { status: '$state' } } }, 'bookings.fields.status: must be a field path'],
    [{ types: { date: 'timestamp' } }, 'types.date: expected "string" or "date"'],
    [{ types: { sessionId: 'uuid' } }, 'types.sessionId: expected "objectId" or "string"'],
    [{ bookings: { activeStatuses: [] } }, 'bookings.activeStatuses: must name at least one status'],
    [{ bookings: { activeStatuses: ['held', 'paid'] } }, 'bookings.writeStatuses.confirmed: "confirmed" must be one of activeStatuses'],
    [{ bookings: { activeStatuses: ['held', 'paid'], writeStatuses: { confirmed: 'paid', cancelled: 'held' } } }, 'bookings.writeStatuses.cancelled: "held" must not be one of activeStatuses'],
    [{ sessions: { collection: 'holds' } }, "sessions.collection: must not be one of the hub's own collections"],
    [{ overrides: { collection: 'bookings' } }, 'bookings.collection: sessions, bookings and overrides must be three different collections'],
    [{ bookings: { fields: { quantity: 'seats', userId: 'seats' } } }, 'bookings.fields.userId: "seats" is also (or contains) bookings.fields.quantity'],
    [[1, 2], '(file): expected a JSON object'],
    ['{ not json', '(file): is not JSON'],
  ])('a bad mapping stops start-up with one line naming the key: %j', (content, detail) => {
    const message = errorOf(content);
    expect(message.split('\n')).toHaveLength(1);
    expect(message).toContain(`Invalid configuration: SCHEMA_FILE: ${detail}`);
  });

  it('accepts both examples in docs/data-model.md, and the studio one is the mapping the suites run against', () => {
    const doc = readFileSync(new URL('../../docs/data-model.md', import.meta.url), 'utf8');
    const section = doc.slice(doc.indexOf('## Your own schema'), doc.indexOf('## Documents that do not fit'));
    const examples = [...section.matchAll(/```json\n([\s\S]*?)```/g)].map((match) => JSON.parse(match[1]!) as unknown);
    expect(examples).toHaveLength(2);
    for (const example of examples) expect(parseMapping(example).mapped).toBe(true);
    expect(examples[0]).toEqual(STUDIO_MAPPING);
    expect(parseMapping(examples[1])).toMatchObject({ bookings: { collection: 'tickets', fields: { userId: 'passenger.account' } }, types: { sessionId: 'objectId', date: 'date' } });
  });

  it('a file that cannot be read is named as such', () => {
    expect(() => loadConfig({ SCHEMA_FILE: join(dir, 'missing.json') })).toThrow('Invalid configuration: SCHEMA_FILE: (file): cannot be read (ENOENT)');
  });
});

describe('reading documents through a mapping', () => {
  const studio = new DocumentMapping(parseMapping(STUDIO_MAPPING), 'Europe/Paris');
  const plain = new DocumentMapping(DEFAULT_SCHEMA, 'UTC');
  const hex = '64b000000000000000000001';

  it('reads nested paths, string ids and BSON Date days in TIMEZONE', () => {
    // 23:30 UTC on 31 March is already 1 April in Paris (UTC+2 from 30 March 2027).
    const read = studio.booking({ _id: 'r1', classId: hex.toUpperCase(), day: new Date('2027-03-31T23:30:00Z'), customer: { id: 'c1' }, seats: 2, state: 'held' });
    expect(read).toMatchObject({ ok: true, value: { key: { sessionId: hex, date: '2027-04-01' }, userId: 'c1', quantity: 2, active: true, status: 'pending' } });
    expect(studio.booking({ _id: 'r2', classId: hex, day: new Date('2027-04-01T10:00:00Z'), customer: { id: 'c1' }, seats: 1, state: 'paid' })).toMatchObject({ value: { status: 'confirmed' } });
    expect(studio.booking({ _id: 'r3', classId: hex, day: new Date('2027-04-01T10:00:00Z'), customer: { id: 'c1' }, seats: 1, state: 'refunded' })).toMatchObject({ value: { active: false, status: 'cancelled' } });
  });

  it('names why a document does not fit, keeping its key when that much is readable', () => {
    const good = { _id: 'b1', sessionId: new Types.ObjectId(hex), date: '2027-01-30', userId: 'u', quantity: 2, status: 'confirmed' };
    expect(plain.booking(good).ok).toBe(true);
    expect(plain.booking({ ...good, sessionId: hex })).toMatchObject({ ok: false, reason: 'mistyped:sessionId' });
    expect(plain.booking({ ...good, date: new Date() })).toMatchObject({ ok: false, reason: 'mistyped:date' });
    expect(plain.booking({ ...good, date: '2027-02-29' })).toMatchObject({ ok: false, reason: 'invalid:date' });
    expect(plain.booking({ ...good, quantity: 2.5 })).toMatchObject({ ok: false, reason: 'invalid:quantity', key: { sessionId: hex, date: '2027-01-30' } });
    expect(plain.booking({ ...good, status: undefined })).toMatchObject({ ok: false, reason: 'missing:status' });
    expect(plain.session({ _id: new Types.ObjectId(hex), name: 'Swim', startTime: '7:00', endTime: '08:00', capacity: 1 })).toMatchObject({ ok: false, reason: 'invalid:startTime' });
    expect(plain.override({ _id: 'o1', sessionId: new Types.ObjectId(hex), date: '2027-01-30', closed: 'yes' })).toMatchObject({ ok: false, reason: 'mistyped:closed' });
  });

  it('writes the hub’s bookings in the mapped form and finds BSON Date days by their range in TIMEZONE', () => {
    const doc = studio.newBooking({ _id: new Types.ObjectId(), sessionId: hex, date: '2027-04-01', userId: 'c1', quantity: 2 }, new Date(0));
    expect(doc).toMatchObject({ classId: hex, day: new Date('2027-03-31T22:00:00Z'), customer: { id: 'c1' }, seats: 2, state: 'paid', created: new Date(0), modified: new Date(0) });
    expect(studio.dateRange('2027-04-01', '2027-04-01')).toEqual({ $gte: new Date('2027-03-31T22:00:00Z'), $lt: new Date('2027-04-01T22:00:00Z') });
    expect(zonedMidnight('2027-01-15', 'Europe/Paris').toISOString()).toBe('2027-01-14T23:00:00.000Z');
    expect(zonedMidnight('2027-01-15', 'America/New_York').toISOString()).toBe('2027-01-15T05:00:00.000Z');
    // Santiago skips midnight when DST begins (23:59:59 -04 is followed by 01:00 -03): the day begins at the jump.
    expect(zonedMidnight('2030-09-08', 'America/Santiago').toISOString()).toBe('2030-09-08T04:00:00.000Z');
    expect(zonedMidnight('2030-09-07', 'America/Santiago').toISOString()).toBe('2030-09-07T04:00:00.000Z');
  });
});

describe('BSON Date days (property)', () => {
  const zones = ['UTC', 'Europe/Paris', 'America/New_York', 'Asia/Kolkata', 'Pacific/Auckland', 'America/Santiago', 'Australia/Lord_Howe'];

  it('an instant is read as day D exactly when the query range of D holds it', () => {
    fc.assert(
      fc.property(fc.constantFrom(...zones), fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2035, 0, 1) }), (zone, at) => {
        const mapping = new DocumentMapping({ ...DEFAULT_SCHEMA, types: { sessionId: 'objectId', date: 'date' } }, zone);
        const instant = new Date(at);
        const read = mapping.keyFrom(new Types.ObjectId(), instant);
        expect(read).toBeDefined();
        const range = mapping.dateRange(read!.date, read!.date) as { $gte: Date; $lt: Date };
        expect(range.$gte.getTime()).toBeLessThanOrEqual(at);
        expect(at).toBeLessThan(range.$lt.getTime());
        // And the day the hub writes for D is read back as D.
        expect(mapping.keyFrom(new Types.ObjectId(), mapping.storedDate(read!.date))!.date).toBe(read!.date);
      }),
      { numRuns: 2000 },
    );
  });
});

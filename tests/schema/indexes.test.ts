import { describe, expect, it } from 'vitest';
import { openTestDatabase } from '../support/database.ts';
import { startTestHub } from '../support/hub.ts';
import { STUDIO_MAPPING, studioCase } from '../support/schemas.ts';
import { parseMapping } from '../../server/src/schema/mapping.ts';

describe('indexes on mapped collections', () => {
  it('creates only what its queries need, says which, and leaves yours as they are', async () => {
    const c = studioCase();
    const db = await openTestDatabase(undefined, { syncIndexes: false, schema: parseMapping(STUDIO_MAPPING) });
    const reservations = db.connection.collection('reservations');
    // Yours: one with the keys the hub needs under your own name, one it does not need.
    await reservations.createIndex({ classId: 1, day: 1, state: 1 }, { name: 'mine_class_day_state' });
    await reservations.createIndex({ 'customer.email': 1 }, { name: 'mine_email' });
    const t = await startTestHub({ mongoUri: db.uri, captureLogs: true, env: c.env });
    await t.waitForLog('the index report', (line) => line.msg === 'indexes the hub needs on a mapped collection' && line.collection === 'reservations');
    const report = t.logs.find((line) => line.msg === 'indexes the hub needs on a mapped collection' && line.collection === 'reservations')!;
    expect(report.alreadyThere).toEqual(['classId_day_state']);
    expect(report.created).toEqual(['slotcast_day_state', 'slotcast_customer.id_day', 'slotcast_modified']);

    const indexes = await reservations.listIndexes().toArray();
    expect(indexes.map((index) => index.name).sort()).toEqual(
      ['_id_', 'mine_class_day_state', 'mine_email', 'slotcast_customer.id_day', 'slotcast_day_state', 'slotcast_modified'].sort(),
    );
    expect(indexes.some((index) => index.unique)).toBe(false);
    const exceptions = await db.connection.collection('class_exceptions').listIndexes().toArray();
    expect(exceptions.map((index) => [index.name, index.unique ?? false])).toEqual([
      ['_id_', false],
      ['slotcast_classId_day', false],
      ['slotcast_day', false],
    ]);
    // Nothing under the default names: an adopted database gets no empty bookings collection.
    const names = (await db.connection.db!.listCollections().toArray()).map((collection) => collection.name);
    expect(names).not.toContain('bookings');
    expect(names).not.toContain('sessions');
    expect(names).not.toContain('session_overrides');
    expect(names).toContain('holds');

    // A second start finds them all and creates nothing.
    await t.hub.stop();
    const again = await startTestHub({ mongoUri: db.uri, captureLogs: true, env: c.env });
    await again.waitForLog('the second report', (line) => line.msg === 'indexes the hub needs on a mapped collection' && line.collection === 'reservations');
    expect(again.logs.find((line) => line.collection === 'reservations')).toMatchObject({ created: [] });
  });
});

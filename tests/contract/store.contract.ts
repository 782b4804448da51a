import { describe, expect, it } from 'vitest';
import { sampleRow } from '../support/rows.ts';
import { STALE, type AvailabilityStores } from '../../server/src/availability/store/ports.ts';

const snapshot = (version: number, booked = 1, sessionId?: string, date?: string) => sampleRow(version, booked, { sessionId, date });

const key = (sessionId: string, date: string) => ({ sessionId, date });

/**
 * What every implementation of the engine's stores (snapshot cache, version counter, catalog
 * epoch, once-marks) must do. `open` gives fresh stores; `reopen` gives others over the same
 * backing data (a second instance, or the same one after a restart).
 */
export function storeContract(name: string, open: () => Promise<{ store: AvailabilityStores; reopen: () => AvailabilityStores }>) {
  describe(`${name} store contract`, () => {
    it('hands out versions that only increase, in blocks, from instance to instance', async () => {
      const { store, reopen } = await open();
      const a = await store.versions.reserve(3);
      const b = await store.versions.reserve(1);
      const c = await reopen().versions.reserve(5);
      expect(b).toBeGreaterThanOrEqual(a + 3);
      expect(c).toBeGreaterThan(b);
      expect(a).toBeGreaterThanOrEqual(Date.now() * 1000 - 60_000_000);
    });

    it('keeps the newest version: an older or equal write is refused', async () => {
      const { store } = await open();
      const held = key('a'.repeat(24), '2026-11-24');
      expect(await store.cache.put([snapshot(10, 1)])).toEqual([true]);
      expect(await store.cache.put([snapshot(9, 2)])).toEqual([false]);
      expect(await store.cache.put([snapshot(10, 3)])).toEqual([false]);
      expect((await store.cache.get([held]))[0]).toMatchObject({ version: 10, booked: 1 });
      expect(await store.cache.put([snapshot(11, 4)])).toEqual([true]);
      expect((await store.cache.get([held]))[0]).toMatchObject({ version: 11, booked: 4 });
    });

    it('reads many keys at once, undefined where nothing is held, and deletes', async () => {
      const { store } = await open();
      const other = 'b'.repeat(24);
      await store.cache.put([snapshot(5, 1), snapshot(6, 2, other, '2026-11-25')]);
      const got = await store.cache.get([key('a'.repeat(24), '2026-11-24'), key(other, '2026-11-26'), key(other, '2026-11-25')]);
      expect(got.map((row) => row?.booked)).toEqual([1, undefined, 2]);
      await store.cache.delete([key(other, '2026-11-25')]);
      expect(await store.cache.get([key(other, '2026-11-25')])).toEqual([undefined]);
      expect(await store.cache.get([])).toEqual([]);
    });

    it('reads and deletes many keys in one call in the order asked, duplicates and gaps included (keys a cluster spreads over its masters)', async () => {
      const { store } = await open();
      const sessions = Array.from({ length: 40 }, (_, i) => i.toString(16).padStart(24, '0'));
      const written = sessions.map((sessionId, i) => snapshot(100 + i, i, sessionId, '2026-12-03'));
      expect(await store.cache.put(written)).toEqual(written.map(() => true));
      const asked = [...sessions].reverse().flatMap((sessionId, i) => (i % 5 === 0 ? [key(sessionId, '2026-12-04'), key(sessionId, '2026-12-03'), key(sessionId, '2026-12-03')] : [key(sessionId, '2026-12-03')]));
      const expected = asked.map((k) => (k.date === '2026-12-03' ? sessions.indexOf(k.sessionId) : undefined));
      expect((await store.cache.get(asked)).map((row) => row?.booked)).toEqual(expected);
      await store.cache.delete(sessions.slice(0, 20).map((sessionId) => key(sessionId, '2026-12-03')));
      const left = await store.cache.get(sessions.map((sessionId) => key(sessionId, '2026-12-03')));
      expect(left.map((row) => row?.booked)).toEqual(sessions.map((_, i) => (i < 20 ? undefined : i)));
    });

    it('shares what one instance writes with another', async () => {
      const { store, reopen } = await open();
      await store.cache.put([snapshot(7, 3)]);
      expect((await reopen().cache.get([key('a'.repeat(24), '2026-11-24')]))[0]).toMatchObject({ version: 7, booked: 3 });
    });

    it('moves the catalog epoch on every bump', async () => {
      const { store } = await open();
      const before = await store.epoch.current();
      const after = await store.epoch.bump();
      expect(after).not.toBe(before);
      expect(await store.epoch.current()).toBe(after);
    });

    it('marks a name once per window', async () => {
      const { store } = await open();
      expect(await store.marks.markOnce(['x'], 60_000)).toEqual([true]);
      expect(await store.marks.markOnce(['x'], 60_000)).toEqual([false]);
      expect(await store.marks.markOnce(['y', 'x', 'z'], 60_000)).toEqual([true, false, true]);
      expect(await store.marks.markOnce([], 60_000)).toEqual([]);
    });

    it('swaps in a newer alert state and hands back the one held, refusing an older or equal one', async () => {
      const { store, reopen } = await open();
      const one = key('b'.repeat(24), '2026-11-24');
      const other = key('c'.repeat(24), '2026-11-24');
      const full = { version: 20, alert: 'no_availability' as const, overbooked: false };
      const free = { version: 30, alert: null, overbooked: false };
      expect(await store.alertStates.swap([{ key: one, state: full }], 60_000)).toEqual([undefined]);
      // Another instance sees the same states; a late (older) or repeated evaluation is STALE and changes nothing.
      expect(await reopen().alertStates.swap([{ key: one, state: { ...free, version: 10 } }, { key: one, state: full }], 60_000)).toEqual([STALE, STALE]);
      expect(await store.alertStates.swap([{ key: one, state: free }, { key: other, state: full }], 60_000)).toEqual([full, undefined]);
      expect(await store.alertStates.swap([{ key: one, state: { version: 31, alert: 'low_availability', overbooked: true } }], 60_000)).toEqual([free]);
      expect(await store.alertStates.swap([{ key: one, state: { ...free, version: 32 } }], 60_000)).toEqual([{ version: 31, alert: 'low_availability', overbooked: true }]);
      expect(await store.alertStates.swap([], 60_000)).toEqual([]);
    });
  });
}

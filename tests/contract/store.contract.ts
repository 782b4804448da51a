import { describe, expect, it } from 'vitest';
import { sampleRow } from '../support/rows.ts';
import type { AvailabilityStore } from '../../server/src/availability/store.ts';

const snapshot = (version: number, booked = 1, sessionId?: string, date?: string) => sampleRow(version, booked, { sessionId, date });

/**
 * What every AvailabilityStore must do. `open` gives a fresh store; `reopen` gives another
 * store over the same backing data (a second instance, or the same one after a restart).
 */
export function storeContract(name: string, open: () => Promise<{ store: AvailabilityStore; reopen: () => AvailabilityStore }>) {
  describe(`${name} store contract`, () => {
    it('hands out versions that only increase, in blocks, from instance to instance', async () => {
      const { store, reopen } = await open();
      const a = await store.reserveVersions(3);
      const b = await store.reserveVersions(1);
      const c = await reopen().reserveVersions(5);
      expect(b).toBeGreaterThanOrEqual(a + 3);
      expect(c).toBeGreaterThan(b);
      expect(a).toBeGreaterThanOrEqual(Date.now() * 1000 - 60_000_000);
    });

    it('keeps the newest version: an older or equal write is refused', async () => {
      const { store } = await open();
      const key = `${'a'.repeat(24)}:2026-11-24`;
      expect(await store.put([snapshot(10, 1)])).toEqual([true]);
      expect(await store.put([snapshot(9, 2)])).toEqual([false]);
      expect(await store.put([snapshot(10, 3)])).toEqual([false]);
      expect((await store.get([key]))[0]).toMatchObject({ version: 10, booked: 1 });
      expect(await store.put([snapshot(11, 4)])).toEqual([true]);
      expect((await store.get([key]))[0]).toMatchObject({ version: 11, booked: 4 });
    });

    it('reads many keys at once, undefined where nothing is held, and deletes', async () => {
      const { store } = await open();
      const other = 'b'.repeat(24);
      await store.put([snapshot(5, 1), snapshot(6, 2, other, '2026-11-25')]);
      const got = await store.get([`${'a'.repeat(24)}:2026-11-24`, `${other}:2026-11-26`, `${other}:2026-11-25`]);
      expect(got.map((row) => row?.booked)).toEqual([1, undefined, 2]);
      await store.delete([`${other}:2026-11-25`]);
      expect(await store.get([`${other}:2026-11-25`])).toEqual([undefined]);
      expect(await store.get([])).toEqual([]);
    });

    it('shares what one instance writes with another', async () => {
      const { store, reopen } = await open();
      await store.put([snapshot(7, 3)]);
      expect((await reopen().get([`${'a'.repeat(24)}:2026-11-24`]))[0]).toMatchObject({ version: 7, booked: 3 });
    });

    it('moves the catalog epoch on every bump', async () => {
      const { store } = await open();
      const before = await store.catalogEpoch();
      const after = await store.bumpCatalogEpoch();
      expect(after).not.toBe(before);
      expect(await store.catalogEpoch()).toBe(after);
    });

    it('marks a name once per window', async () => {
      const { store } = await open();
      expect(await store.markOnce('x', 60_000)).toBe(true);
      expect(await store.markOnce('x', 60_000)).toBe(false);
      expect(await store.markOnce('y', 60_000)).toBe(true);
    });
  });
}

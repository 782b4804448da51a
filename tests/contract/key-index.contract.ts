import { describe, expect, it } from 'vitest';
import { addDays, type Key } from '@slotcast/shared';
import type { KeyIndex } from '../../server/src/feed/key-index.ts';

const S1 = 'a'.repeat(24);
const S2 = 'b'.repeat(24);
const key = (sessionId: string, date: string): Key => ({ sessionId, date });

/** `count` distinct ids, each on its own key, for the batch cases. */
const many = (count: number): [string, Key][] =>
  Array.from({ length: count }, (_, n) => [`booking-${n}`, key(n % 2 ? S1 : S2, addDays('2026-01-01', n))]);

/**
 * What every KeyIndex must do. `open` gives a fresh index; `reopen` gives another index over the
 * same entries (the next leader, or the same one for an index held in one process).
 */
export function keyIndexContract(name: string, open: () => Promise<{ index: KeyIndex; reopen: () => KeyIndex }>) {
  describe(`${name} key index contract`, () => {
    it('holds nothing for ids never set, and answers no ids with nothing', async () => {
      const { index } = await open();
      expect(await index.get(['b1', 'b2'])).toEqual([undefined, undefined]);
      expect(await index.get([])).toEqual([]);
    });

    it('gives back the key last set for each id, in the order asked', async () => {
      const { index } = await open();
      await index.set([
        ['b1', key(S1, '2026-11-24')],
        ['b2', key(S2, '2026-11-25')],
      ]);
      expect(await index.get(['b2', 'unknown', 'b1', 'b2'])).toEqual([key(S2, '2026-11-25'), undefined, key(S1, '2026-11-24'), key(S2, '2026-11-25')]);
      await index.set([['b1', key(S2, '2026-12-01')]]);
      expect(await index.get(['b1'])).toEqual([key(S2, '2026-12-01')]);
    });

    it('forgets deleted ids, and ignores deletes of ids it never held', async () => {
      const { index } = await open();
      await index.set([
        ['b1', key(S1, '2026-11-24')],
        ['b2', key(S2, '2026-11-25')],
      ]);
      await index.delete(['b1', 'never-set']);
      await index.delete([]);
      expect(await index.get(['b1', 'b2', 'never-set'])).toEqual([undefined, key(S2, '2026-11-25'), undefined]);
    });

    it("holds a key in keyOf's spelling: the session id in lower case", async () => {
      const { index } = await open();
      await index.set([['b1', key(S1.toUpperCase(), '2026-11-24')]]);
      expect(await index.get(['b1'])).toEqual([key(S1, '2026-11-24')]);
    });

    it('sets, reads and deletes batches of more than 1000 entries at once', async () => {
      const { index } = await open();
      const entries = many(2_500);
      await index.set(entries);
      expect(await index.get(entries.map(([id]) => id))).toEqual(entries.map(([, held]) => held));
      const gone = entries.slice(0, 1_200).map(([id]) => id);
      await index.delete(gone);
      const after = await index.get(entries.map(([id]) => id));
      expect(after.slice(0, 1_200).every((held) => held === undefined)).toBe(true);
      expect(after.slice(1_200)).toEqual(entries.slice(1_200).map(([, held]) => held));
    });

    it('shares what one instance set and deleted with the next', async () => {
      const { index, reopen } = await open();
      await index.set([
        ['b1', key(S1, '2026-11-24')],
        ['b2', key(S2, '2026-11-25')],
      ]);
      await index.delete(['b2']);
      expect(await reopen().get(['b1', 'b2'])).toEqual([key(S1, '2026-11-24'), undefined]);
    });
  });
}

import { describe, expect, it } from 'vitest';
import { mongo } from 'mongoose';
import type { Lease } from '../../server/src/cluster/lease.ts';
import type { ResumeTokens } from '../../server/src/feed/resume-tokens.ts';

const { Binary, EJSON, Timestamp } = mongo.BSON;

/** Shaped as a MongoDB 3.6 resume token (binary `_data`), with the cluster time a change event carries beside it. */
const binaryToken = () => ({
  _data: new Binary(Buffer.from('825f5a3d1e000000012b022c0100296e5a1004a1b2c3d4e5f6', 'hex'), Binary.SUBTYPE_DEFAULT),
  _typeBits: new Binary(Buffer.from([0x40]), Binary.SUBTYPE_DEFAULT),
  clusterTime: new Timestamp({ t: 1_764_600_000, i: 7 }),
});
/** Shaped as a MongoDB 4.2+ token: `_data` a hex string. */
const stringToken = (n: number) => ({ _data: `8265A1F0E2000000${n.toString(16).padStart(2, '0')}2B022C0100296E5A1004` });

/** Equal as BSON: the same types and values, which `toEqual` on class instances does not say. */
const canonical = (value: unknown) => EJSON.stringify(value as mongo.Document, { relaxed: false });

export interface TokensWorld {
  /** Tokens over `lease`, which this world started and holds. */
  tokens: ResumeTokens;
  lease: Lease;
  /** Tokens over a lease that was never started. */
  unheld(): ResumeTokens;
}

export interface SharedTokensWorld extends TokensWorld {
  /** Ends `lease`'s holding as its TTL would while it was paused, and gives the next holder's tokens over the same store. */
  takeOver(): Promise<ResumeTokens>;
}

/**
 * What every ResumeTokens must do. `shared` adds the case that needs a second leader: it
 * resumes from the first one's token, and the first one is fenced off.
 */
export function resumeTokensContract(name: string, open: () => Promise<TokensWorld>, shared?: () => Promise<SharedTokensWorld>) {
  describe(`${name} resume tokens contract`, () => {
    it('loads nothing for a collection never saved', async () => {
      const { tokens } = await open();
      expect(await tokens.load('bookings')).toBeUndefined();
    });

    it('round-trips a token through EJSON with its BSON types, and a later save replaces it', async () => {
      const { tokens } = await open();
      const token = binaryToken();
      expect(await tokens.save('bookings', token)).toBe(true);
      const loaded = (await tokens.load('bookings')) as ReturnType<typeof binaryToken>;
      expect(loaded._data).toBeInstanceOf(Binary);
      expect(Buffer.from(loaded._data.buffer).equals(Buffer.from(token._data.buffer))).toBe(true);
      expect(loaded.clusterTime).toBeInstanceOf(Timestamp);
      expect([loaded.clusterTime.t, loaded.clusterTime.i]).toEqual([1_764_600_000, 7]);
      expect(canonical(loaded)).toBe(canonical(token));
      expect(await tokens.save('bookings', stringToken(2))).toBe(true);
      expect(await tokens.load('bookings')).toEqual(stringToken(2));
    });

    it("keeps each collection's token apart, and clear forgets only the one named", async () => {
      const { tokens } = await open();
      await tokens.save('bookings', stringToken(1));
      await tokens.save('sessions', binaryToken());
      expect(await tokens.clear('bookings')).toBe(true);
      expect(await tokens.load('bookings')).toBeUndefined();
      expect(canonical(await tokens.load('sessions'))).toBe(canonical(binaryToken()));
    });

    it('refuses to save or clear without the lease, and keeps what it had', async () => {
      const { tokens, lease, unheld } = await open();
      expect(await unheld().save('bookings', stringToken(9))).toBe(false);
      expect(await tokens.save('bookings', stringToken(1))).toBe(true);
      await lease.stop();
      expect(await tokens.save('bookings', stringToken(2))).toBe(false);
      expect(await tokens.clear('bookings')).toBe(false);
      expect(await tokens.load('bookings')).toEqual(stringToken(1));
    });
  });

  if (!shared) return;

  describe(`${name} resume tokens contract, between leaders`, () => {
    it('the next leader resumes from the last token saved, and the one before is fenced off', async () => {
      const world = await shared();
      await world.tokens.save('bookings', binaryToken());
      const next = await world.takeOver();
      expect(canonical(await next.load('bookings'))).toBe(canonical(binaryToken()));
      // Its own clock still says held: only the fence in the store can refuse it now.
      expect(world.lease.isHeld()).toBe(true);
      expect(await world.tokens.save('bookings', stringToken(2))).toBe(false);
      expect(await world.tokens.clear('bookings')).toBe(false);
      expect(canonical(await next.load('bookings'))).toBe(canonical(binaryToken()));
      expect(await next.save('bookings', stringToken(3))).toBe(true);
      expect(await world.tokens.load('bookings')).toEqual(stringToken(3));
    });
  });
}

import { describe, expect, it } from 'vitest';
import type { Lease } from '../../server/src/cluster/lease.ts';
import { run } from '../support/lease.ts';

/** Leases over one set of keys: each `open` is another process competing for them. */
export interface LeaseWorld {
  /** `ttlMs` where the implementation has one; `settle` resolves once every command the lease has sent was answered. */
  open(ttlMs: number): { lease: Lease; settle(): Promise<void> };
  /** A key for `fencedSet`, under this world's prefix. */
  key(name: string): string;
}

/** A lease whose holding lives outside the process, so other holders can take it over. */
export interface SharedLeaseWorld extends LeaseWorld {
  /** The value a fenced set wrote; null when none. */
  read(key: string): Promise<string | null>;
  /** Who the shared store says holds the lease (`holder|epoch`), null when free. */
  leader(): Promise<string | null>;
  /** Ends the current holding in the store, as its TTL would while the holder was paused. */
  expire(): Promise<void>;
}

/** Long enough that no renewal falls inside a test that must see the holder still believing it holds. */
const LONG_TTL_MS = 30_000;
/** Short enough that a waiting holder's next attempt (every third of it) comes within a second. */
const SHORT_TTL_MS = 3_000;

/**
 * What every Lease must do. `shared` adds the cases that need a second holder: a takeover and
 * the fence that refuses the one taken over. Leases held in one process pass only `world`.
 */
export function leaseContract(name: string, world: () => LeaseWorld | Promise<LeaseWorld>, shared?: () => Promise<SharedLeaseWorld>) {
  describe(`${name} lease contract`, () => {
    it('holds nothing before it starts; onAcquired gives the epoch it then holds', async () => {
      const here = await world();
      const { lease } = here.open(LONG_TTL_MS);
      expect(lease.isHeld()).toBe(false);
      expect(await lease.fencedSet(here.key('target'), 'early')).toBe(false);
      const running = run(lease);
      const epoch = await running.held();
      expect(epoch).toBeGreaterThan(0);
      expect(lease.epoch).toBe(epoch);
      expect(lease.isHeld()).toBe(true);
      expect(await lease.fencedSet(here.key('target'), 'held')).toBe(true);
      expect(running.acquired).toEqual([epoch]);
      expect(running.lost).toEqual([]);
    });

    it('says it lost the lease when stopped, and refuses fenced sets from then on', async () => {
      const here = await world();
      const running = run(here.open(LONG_TTL_MS).lease);
      await running.held();
      await running.lease.stop();
      expect(running.lost).toEqual(['stopping']);
      expect(running.lease.isHeld()).toBe(false);
      expect(await running.lease.fencedSet(here.key('target'), 'after stop')).toBe(false);
    });
  });

  if (!shared) return;

  describe(`${name} lease contract, between holders`, () => {
    it('a second holder waits while the first holds, then takes over with a higher epoch once it stops', async () => {
      const here = await shared();
      const target = here.key('target');
      const first = run(here.open(SHORT_TTL_MS).lease);
      const firstEpoch = await first.held();
      const contender = here.open(SHORT_TTL_MS);
      const second = run(contender.lease);
      // Its first attempt went out on start; once answered, it must have been refused.
      await contender.settle();
      expect(second.acquired).toEqual([]);
      expect(contender.lease.isHeld()).toBe(false);
      const firstHolding = await here.leader();
      expect(firstHolding).toMatch(new RegExp(`\\|${firstEpoch}$`));

      await first.lease.stop();
      // Released, not left to expire: the store no longer names the first holder.
      expect(await here.leader()).not.toBe(firstHolding);
      const secondEpoch = await second.held();
      expect(secondEpoch).toBeGreaterThan(firstEpoch);
      expect(await first.lease.fencedSet(target, 'first')).toBe(false);
      expect(await contender.lease.fencedSet(target, 'second')).toBe(true);
      expect(await here.read(target)).toBe('second');
    });

    it('fences off a holder whose lease ran out while it still believes it holds', async () => {
      const here = await shared();
      const target = here.key('target');
      const first = run(here.open(LONG_TTL_MS).lease);
      const firstEpoch = await first.held();
      expect(await first.lease.fencedSet(target, 'first')).toBe(true);
      await here.expire();
      const second = run(here.open(LONG_TTL_MS).lease);
      expect(await second.held()).toBeGreaterThan(firstEpoch);
      // Its own clock still says held: only the fence in the store can refuse it now.
      expect(first.lease.isHeld()).toBe(true);
      expect(await first.lease.fencedSet(target, 'stale')).toBe(false);
      expect(await here.read(target)).toBe('first');
      expect(await second.lease.fencedSet(target, 'second')).toBe(true);
      expect(await here.read(target)).toBe('second');
    });

    it('a holder taken over hears so at its next renewal and stops holding', async () => {
      const here = await shared();
      const first = run(here.open(SHORT_TTL_MS).lease);
      await first.held();
      await here.expire();
      const second = run(here.open(SHORT_TTL_MS).lease);
      await second.held();
      expect(await first.dropped()).toMatch(/another instance holds the lease/);
      expect(first.lease.isHeld()).toBe(false);
      expect(first.lease.epoch).toBe(0);
      expect(await first.lease.fencedSet(here.key('target'), 'stale')).toBe(false);
      expect(second.lease.isHeld()).toBe(true);
      expect(second.lost).toEqual([]);
    });
  });
}

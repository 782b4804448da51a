import type { Lease } from '../../server/src/cluster/lease.ts';
import { whenDone } from './cleanup.ts';
import { Waiter } from './waiter.ts';

/** A started lease and what it has told its handlers, in order. */
export interface Running {
  lease: Lease;
  acquired: number[];
  lost: string[];
  /** Resolves with the epoch of the first acquisition; fails after the timeout. */
  held(timeoutMs?: number): Promise<number>;
  /** Resolves with the reason of the first loss; fails after the timeout. */
  dropped(timeoutMs?: number): Promise<string>;
}

/** Starts `lease`, records its calls, and stops it when the test (or file) ends. */
export function run(lease: Lease): Running {
  const waiter = new Waiter();
  const acquired: number[] = [];
  const lost: string[] = [];
  lease.start({
    onAcquired: (epoch) => {
      acquired.push(epoch);
      waiter.wake();
    },
    onLost: (reason) => {
      lost.push(reason);
      waiter.wake();
    },
  });
  whenDone(() => lease.stop());
  return {
    lease,
    acquired,
    lost,
    held: async (timeoutMs = 10_000) => {
      await waiter.until('the lease to be acquired', () => acquired.length > 0, timeoutMs);
      return acquired[0]!;
    },
    dropped: async (timeoutMs = 10_000) => {
      await waiter.until('the lease to be lost', () => lost.length > 0, timeoutMs, { detail: () => `acquired ${acquired.join(', ')}` });
      return lost[0]!;
    },
  };
}

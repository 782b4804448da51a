import { keyOf, type Key, type UpdateReason } from '@slotcast/shared';
import type { BookingChange, OwnerChange } from '../broadcast/port.ts';

export interface Work {
  key: Key;
  reason: UpdateReason;
  booking?: BookingChange;
  /** A hold's or waitlist entry's change, for its owner. */
  owner?: OwnerChange;
}

export type Flush = (groups: { reason: UpdateReason; keys: Key[]; owners: OwnerChange[] }[]) => Promise<void>;

/** When one key changed for several reasons in a window, the broadest reason names the update. */
const PRIORITY: Record<UpdateReason, number> = { hold: 0, booking: 1, override: 2, session: 3, refresh: 4 };

/**
 * Folds changes into one recompute per key per window. The window opens at the first change
 * and closes `windowMs` later; flushes never overlap, and each reads MongoDB after every change
 * it covers was written, so the last flush always shows the final state.
 */
export class Coalescer {
  private pending = new Map<string, Work>();
  private owners: OwnerChange[] = [];
  private waiters: { resolve: () => void; reject: (error: unknown) => void }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly windowMs: number,
    private readonly flush: Flush,
  ) {}

  /** Resolves once the given work has been recomputed and published (or rejects if that failed). */
  add(work: Work[]): Promise<void> {
    if (work.length === 0) return Promise.resolve();
    for (const item of work) {
      const id = keyOf(item.key);
      const held = this.pending.get(id);
      if (!held || PRIORITY[item.reason] > PRIORITY[held.reason]) this.pending.set(id, { key: item.key, reason: item.reason });
      if (item.booking) this.owners.push({ kind: 'booking', ...item.booking });
      if (item.owner) this.owners.push(item.owner);
    }
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    this.timer ??= setTimeout(() => this.close(), this.windowMs);
    return done;
  }

  private close(): void {
    this.timer = undefined;
    const work = [...this.pending.values()];
    const owners = this.owners;
    const waiters = this.waiters;
    this.pending = new Map();
    this.owners = [];
    this.waiters = [];
    this.running = this.running.then(async () => {
      try {
        await this.flush(groupByReason(work, owners));
        for (const waiter of waiters) waiter.resolve();
      } catch (error) {
        for (const waiter of waiters) waiter.reject(error);
      }
    });
  }

  /** Waits for whatever is pending or running. */
  async idle(): Promise<void> {
    while (this.timer || this.pending.size > 0) {
      if (this.timer) {
        clearTimeout(this.timer);
        this.close();
      }
      await this.running;
    }
    await this.running;
  }
}

function groupByReason(work: Work[], owners: OwnerChange[]) {
  const reasons = [...new Set(work.map((item) => item.reason))];
  return reasons.map((reason) => {
    const keys = work.filter((item) => item.reason === reason).map((item) => item.key);
    const ids = new Set(keys.map(keyOf));
    return {
      reason,
      keys,
      owners: owners.filter((owner) => ids.has(keyOf(owner))),
    };
  });
}

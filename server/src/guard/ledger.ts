import { Types } from 'mongoose';
import { keyOf, type Key } from '@slotcast/shared';
import type { Models } from '../db/models.ts';
import type { Logger } from '../observability/logger.ts';

/** What MongoDB says of a key now: its capacity on that date and the places taken there. */
export interface KeyTruth {
  capacity: number;
  booked: number;
  held: number;
}

export type TruthOf = (keys: Key[]) => Promise<Map<string, KeyTruth>>;

/** What a claim remembers, so an abandoned one can be told from a slow one (see `abandon`). */
export interface Claim {
  id: Types.ObjectId;
  quantity: number;
  at: Date;
}

/** A reconciliation that keeps losing its compare-and-set to admissions tries this often, then leaves it to the next change. */
const RECONCILE_TRIES = 5;
/** An admission that keeps finding places free after its update missed them (they come and go) tries this often. */
const ADMIT_TRIES = 4;

const isDuplicateKey = (error: unknown) => (error as { code?: number }).code === 11000;

/**
 * The serialization point of guarded writes: one MongoDB document per key, changed only by
 * conditional single-document updates.
 *
 * Invariant: `free` never exceeds capacity minus the places taken (active bookings, active holds,
 * and admitted claims whose hold is not written yet), and `open` never exceeds `free`. An admission takes places only where
 * `free >= quantity` (one conditional `$inc`), so two admissions can never both take the last
 * place. Places come back only through `reconcile`, which recomputes `free` from MongoDB and
 * writes it only if no admission or settlement happened since it read the ledger (`rev`).
 */
export class CapacityLedger {
  constructor(
    private readonly models: Models,
    private readonly truthOf: TruthOf,
    private readonly logger: Logger,
  ) {}

  /**
   * Takes `quantity` places for the claim `id`, or says how many are free to take. A plain
   * hold may take only `open` places (free ones no waiting entry that fits is owed); a waitlist
   * offer takes from `free`, and the reconciliation after it recomputes what is owed.
   */
  async admit(key: Key, id: Types.ObjectId, quantity: number, options: { forWaitlist?: boolean } = {}): Promise<{ admitted: true } | { admitted: false; free: number }> {
    const _id = keyOf(key);
    const plain = !options.forWaitlist;
    for (let attempt = 0; attempt < ADMIT_TRIES; attempt += 1) {
      const taken = await this.models.Ledger.findOneAndUpdate(
        { _id, free: { $gte: quantity }, ...(plain ? { open: { $gte: quantity } } : {}) },
        { $inc: { free: -quantity, ...(plain ? { open: -quantity } : {}), rev: 1 }, $push: { claims: { id, quantity, at: new Date() } } },
        { projection: { _id: 1 } },
      ).lean();
      if (taken) return { admitted: true };
      const current = await this.models.Ledger.findById(_id, { free: 1, open: 1 }).lean();
      if (!current) {
        // First admission on this key: the ledger starts from MongoDB's truth, then the same update runs again.
        await this.reconcile([key], { create: true });
        continue;
      }
      const takeable = Math.max(0, plain ? Math.min(current.free, current.open) : current.free);
      if (takeable < quantity) return { admitted: false, free: takeable };
      // Enough places after all: the ledger was created, or places came back, between the update and this read; it runs again.
    }
    return { admitted: false, free: 0 };
  }

  /** The claim's hold is written: the claim is no longer needed to count its places. */
  async settle(key: Key, id: Types.ObjectId): Promise<void> {
    await this.models.Ledger.updateOne({ _id: keyOf(key), 'claims.id': id }, { $pull: { claims: { id } }, $inc: { rev: 1 } });
  }

  /** Gives a claim's places back at once (its hold was never written: a refused duplicate, say). */
  async giveBack(key: Key, claim: { id: Types.ObjectId; quantity: number }): Promise<void> {
    await this.models.Ledger.updateOne(
      { _id: keyOf(key), 'claims.id': claim.id },
      { $pull: { claims: { id: claim.id } }, $inc: { free: claim.quantity, open: claim.quantity, rev: 1 } },
    );
  }

  /**
   * Recomputes `free` of the keys that have a ledger (or creates it, with `create`) from MongoDB.
   * Reads in this order, so nothing falls between them: the ledger (rev and claims), then which
   * claims' holds exist, then the truth. A claim whose hold appears after the check is counted
   * twice (safe); one that settles after the ledger read changed `rev`, so the write is refused
   * and the reconciliation runs again.
   */
  async reconcile(keys: Key[], options: { create?: boolean } = {}): Promise<void> {
    if (keys.length === 0) return;
    let pending = keys;
    for (let attempt = 0; attempt < RECONCILE_TRIES && pending.length > 0; attempt += 1) {
      const ledgers = new Map((await this.models.Ledger.find({ _id: { $in: pending.map(keyOf) } }).lean()).map((doc) => [doc._id, doc]));
      const present = pending.filter((key) => options.create || ledgers.has(keyOf(key)));
      if (present.length === 0) return;
      const claimIds = [...ledgers.values()].flatMap((doc) => doc.claims.map((claim) => claim.id));
      const written = new Set(
        claimIds.length === 0 ? [] : (await this.models.Hold.find({ _id: { $in: claimIds } }, { _id: 1 }).lean()).map((doc) => String(doc._id)),
      );
      const truth = await this.truthOf(present);
      const queues = await this.queuesOf(present);
      const lost: Key[] = [];
      for (const key of present) {
        const id = keyOf(key);
        const places = truth.get(id);
        if (!places) continue;
        const ledger = ledgers.get(id);
        const invisible = (ledger?.claims ?? []).filter((claim) => !written.has(String(claim.id)));
        const settled = (ledger?.claims ?? []).filter((claim) => written.has(String(claim.id))).map((claim) => claim.id);
        const free = places.capacity - places.booked - places.held - invisible.reduce((sum, claim) => sum + (claim.quantity ?? 0), 0);
        const open = free - owedTo(queues.get(id) ?? [], free);
        if (!ledger) {
          try {
            await this.models.Ledger.create({ _id: id, free, open, rev: 0, claims: [] });
          } catch (error) {
            if (!isDuplicateKey(error)) throw error;
            lost.push(key);
          }
          continue;
        }
        const { matchedCount } = await this.models.Ledger.updateOne(
          { _id: id, rev: ledger.rev },
          { $set: { free, open }, $inc: { rev: 1 }, ...(settled.length > 0 ? { $pull: { claims: { id: { $in: settled } } } } : {}) },
        );
        if (matchedCount === 0) lost.push(key);
      }
      pending = lost;
    }
    if (pending.length > 0) this.logger.debug({ keys: pending.length }, 'ledger reconciliation kept losing to admissions; the next change retries');
  }

  /** The quantities of each key's waiting entries, oldest first. */
  private async queuesOf(keys: Key[]): Promise<Map<string, number[]>> {
    const wanted = new Set(keys.map(keyOf));
    const entries = await this.models.Waitlist.find(
      { sessionId: { $in: [...new Set(keys.map((key) => new Types.ObjectId(key.sessionId)))] }, date: { $in: [...new Set(keys.map((key) => key.date))] }, status: 'waiting' },
      { sessionId: 1, date: 1, quantity: 1, createdAt: 1 },
    )
      .sort({ createdAt: 1, _id: 1 })
      .lean();
    const queues = new Map<string, number[]>();
    for (const entry of entries) {
      const id = keyOf({ sessionId: String(entry.sessionId), date: entry.date });
      if (wanted.has(id)) queues.set(id, [...(queues.get(id) ?? []), entry.quantity]);
    }
    return queues;
  }

  /** Claims admitted more than `olderThanMs` ago, by key: their calls died or stalled between admission and hold. */
  async staleClaims(olderThanMs: number): Promise<{ key: string; claims: Claim[] }[]> {
    const before = new Date(Date.now() - olderThanMs);
    const docs = await this.models.Ledger.find({ 'claims.at': { $lt: before } }, { claims: 1 }).lean();
    return docs.map((doc) => ({
      key: doc._id,
      claims: doc.claims.filter((claim) => claim.at && claim.at < before).map((claim) => ({ id: claim.id, quantity: claim.quantity ?? 0, at: claim.at! })),
    }));
  }
}

/**
 * The places waiting entries are owed out of `free`: the documented waitlist rule, oldest first,
 * an entry that does not fit in what is left skipped (not dropped), as the offer pass serves them.
 */
export function owedTo(queue: number[], free: number): number {
  let left = Math.max(0, free);
  for (const quantity of queue) if (quantity <= left) left -= quantity;
  return Math.max(0, free) - left;
}

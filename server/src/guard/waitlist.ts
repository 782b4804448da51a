import { Types } from 'mongoose';
import { keyOf, type IsoDate, type Key, type WaitlistEntry } from '@slotcast/shared';
import { NotFoundError } from '../availability/errors.ts';
import { hasRole, type Principal } from '../auth/tokens.ts';
import type { WaitlistDoc } from '../db/models.ts';
import type { Logger } from '../observability/logger.ts';
import { keyOfDoc, updateIf } from './docs.ts';
import { ForbiddenError, GuardError } from './errors.ts';
import { takePlaces, type GuardParts } from './holds.ts';
import { requireBookable } from './places.ts';
import { GUARD_REASON } from '@slotcast/shared';

export function entryOf(doc: WaitlistDoc): WaitlistEntry {
  return {
    entryId: String(doc._id),
    sessionId: String(doc.sessionId),
    date: doc.date,
    userId: doc.userId,
    quantity: doc.quantity,
    status: doc.status,
    ...(doc.holdId ? { holdId: String(doc.holdId) } : {}),
  };
}

/** Offers passes make on one key before yielding; more places left are offered by the next pass. */
const OFFERS_PER_PASS = 100;

/**
 * The waitlist, and the one rule by which freed places go to it: whenever places come back on a
 * key, the oldest waiting entry whose quantity fits is offered them (a hold with source
 * waitlist); an entry that does not fit is skipped, not dropped. Offers take places through the
 * ledger like any hold, so no place is offered twice; until they are made, the ledger keeps the
 * places the fitting entries are owed out of reach of plain holds.
 */
export class Waitlist {
  constructor(private readonly parts: GuardParts & { offerSeconds: number; logger: Logger }) {}

  async join(principal: Principal, input: { sessionId: string; date: string; quantity: number }): Promise<{ entry: WaitlistEntry; position: number | null }> {
    const { catalog, models, reads, capacityOf, ledger } = this.parts;
    const key = { sessionId: input.sessionId, date: input.date };
    await requireBookable(catalog, capacityOf, key, input.quantity, reads.today());
    const open = { sessionId: new Types.ObjectId(key.sessionId), date: key.date, userId: principal.userId, status: { $in: ['waiting' as const, 'offered' as const] } };
    if (await models.Waitlist.exists(open)) throw new GuardError(GUARD_REASON.ALREADY_WAITING, `${principal.userId} is on the waitlist of this session and date already`);
    const doc = await models.Waitlist.create({ sessionId: key.sessionId, date: key.date, userId: principal.userId, quantity: input.quantity, status: 'waiting' });
    // What the new entry is owed comes out of what plain holds may take, then it may be offered at once.
    await ledger.reconcile([key], { create: true });
    await this.pass([key]);
    const now = (await models.Waitlist.findById(doc._id).lean())!;
    return { entry: entryOf(now), position: await this.positionOf(now) };
  }

  async leave(principal: Principal, input: { entryId: string }): Promise<{ entry: WaitlistEntry }> {
    const { models } = this.parts;
    const current = await models.Waitlist.findById(input.entryId).lean();
    if (!current) throw new NotFoundError(`no waitlist entry ${input.entryId}`);
    if (current.userId !== principal.userId && !hasRole(principal, 'staff', 'admin')) throw new ForbiddenError(`waitlist entry ${input.entryId} is someone else's`);
    const doc = await updateIf<WaitlistDoc>(models.Waitlist, { _id: current._id, status: { $in: ['waiting', 'offered'] } }, { $set: { status: 'left' } });
    if (!doc) throw new GuardError(GUARD_REASON.ENTRY_INACTIVE, `waitlist entry ${input.entryId} is ${current.status}`);
    if (doc.holdId) {
      // An open offer is given up with the entry: its places pass on.
      await models.Hold.updateOne({ _id: doc.holdId, status: 'active', bookingId: { $exists: false } }, { $set: { status: 'released', updatedAt: new Date() } });
    }
    await this.placesBack([keyOfDoc(doc)]);
    return { entry: entryOf(doc) };
  }

  async mine(principal: Principal): Promise<{ entry: WaitlistEntry; position: number | null }[]> {
    const docs = await this.parts.models.Waitlist.find({ userId: principal.userId, status: { $in: ['waiting' as const, 'offered' as const] } }).sort({ createdAt: 1 }).limit(500).lean();
    return Promise.all(docs.map(async (doc) => ({ entry: entryOf(doc), position: await this.positionOf(doc) })));
  }

  /** 1-based place among the key's waiting entries, in join order; null for an entry no longer waiting. */
  async positionOf(doc: WaitlistDoc): Promise<number | null> {
    if (doc.status !== 'waiting') return null;
    const ahead = await this.parts.models.Waitlist.countDocuments({
      sessionId: doc.sessionId,
      date: doc.date,
      status: 'waiting',
      $or: [{ createdAt: { $lt: doc.createdAt } }, { createdAt: doc.createdAt, _id: { $lt: doc._id } }],
    });
    return ahead + 1;
  }

  /** The entry an offer's hold was made for. */
  async entryOfHold(holdId: string): Promise<WaitlistEntry | undefined> {
    const doc = await this.parts.models.Waitlist.findOne({ holdId: new Types.ObjectId(holdId) }).lean();
    return doc ? entryOf(doc) : undefined;
  }

  async positionOfEntry(entryId: string): Promise<number | null> {
    const doc = await this.parts.models.Waitlist.findById(entryId).lean();
    return doc ? this.positionOf(doc) : null;
  }

  /** The feed recomputed the horizon after events may have been lost: every key's ledger recounts its places from MongoDB. */
  async resynced(scope: { from: IsoDate; to: IsoDate }): Promise<void> {
    await this.placesBack(await this.parts.catalog.keysIn(scope));
  }

  /** Places came back on these keys: the ledger recounts them, then the waitlist is offered what fits. */
  async placesBack(keys: Key[]): Promise<void> {
    await this.parts.ledger.reconcile(keys);
    await this.pass(keys);
  }

  /**
   * Offers free places to the waiting entries that fit, oldest first. Each offer claims its entry
   * first (waiting → offered, one conditional update, so two passes never offer one entry), then
   * takes the places through the ledger; refused there, the entry goes back to waiting.
   */
  async pass(keys: Key[]): Promise<number> {
    const { models } = this.parts;
    const waiting = await models.Waitlist.find({ date: { $in: [...new Set(keys.map((key) => key.date))] }, status: 'waiting' }, { sessionId: 1, date: 1 }).lean();
    const wanted = new Set(keys.map(keyOf));
    const queued = [...new Map(waiting.map(keyOfDoc).filter((key) => wanted.has(keyOf(key))).map((key) => [keyOf(key), key])).values()];
    let offers = 0;
    for (const key of queued) offers += await this.passOne(key);
    if (queued.length > 0) await this.parts.ledger.reconcile(queued);
    return offers;
  }

  private async passOne(key: Key): Promise<number> {
    const { models, ledger, offerSeconds } = this.parts;
    let offers = 0;
    while (offers < OFFERS_PER_PASS) {
      const ledgerDoc = await models.Ledger.findById(keyOf(key), { free: 1 }).lean();
      const free = ledgerDoc?.free ?? 0;
      const next = await models.Waitlist.findOne({ sessionId: new Types.ObjectId(key.sessionId), date: key.date, status: 'waiting', quantity: { $lte: free } })
        .sort({ createdAt: 1, _id: 1 })
        .lean();
      if (!next) return offers;
      const holdId = new Types.ObjectId();
      const claimed = await updateIf<WaitlistDoc>(models.Waitlist, { _id: next._id, status: 'waiting' }, { $set: { status: 'offered', holdId } });
      if (!claimed) continue;
      try {
        await takePlaces({ ledger, models }, { holdId, key, userId: next.userId, quantity: next.quantity, expiresAt: new Date(Date.now() + offerSeconds * 1000), source: 'waitlist' });
      } catch (error) {
        await models.Waitlist.updateOne({ _id: next._id, status: 'offered', holdId }, { $set: { status: 'waiting' }, $unset: { holdId: 1 } });
        if (error instanceof GuardError) return offers;
        throw error;
      }
      offers += 1;
    }
    return offers;
  }

  /** A waitlist hold was released or expired: its entry is expired and the places pass to the next entry that fits. */
  async offerEnded(holdId: Types.ObjectId, key: Key): Promise<void> {
    await this.parts.models.Waitlist.updateOne({ holdId, status: 'offered' }, { $set: { status: 'expired' } });
    await this.placesBack([key]);
  }

  /** A waitlist hold was confirmed: the offer is accepted. */
  async offerAccepted(holdId: Types.ObjectId): Promise<void> {
    await this.parts.models.Waitlist.updateOne({ holdId, status: 'offered' }, { $set: { status: 'accepted' } });
  }

  /**
   * Offers whose hold was never written (the instance died between claiming the entry and
   * taking the places): the entry goes back to waiting, in its place, so it is neither lost nor
   * offered twice. A hold is written in the offer's place first (released), so the stalled call
   * cannot write it later.
   */
  async repairOffers(olderThanMs: number): Promise<number> {
    const { models } = this.parts;
    const stale = await models.Waitlist.find({ status: 'offered', updatedAt: { $lt: new Date(Date.now() - olderThanMs) } }).limit(500).lean();
    let repaired = 0;
    for (const entry of stale) {
      if (!entry.holdId || (await models.Hold.exists({ _id: entry.holdId }))) continue;
      try {
        await models.Hold.collection.insertOne({ _id: entry.holdId, sessionId: entry.sessionId, date: entry.date, userId: entry.userId, quantity: entry.quantity, status: 'released', expiresAt: new Date(), source: 'waitlist', createdAt: new Date(), updatedAt: new Date() });
      } catch (error) {
        if ((error as { code?: number }).code === 11000) continue; // written after all: a live offer
        throw error;
      }
      await models.Waitlist.updateOne({ _id: entry._id, status: 'offered', holdId: entry.holdId }, { $set: { status: 'waiting' }, $unset: { holdId: 1 } });
      repaired += 1;
    }
    if (repaired > 0) this.parts.logger.warn({ repaired }, 'waitlist offers whose hold was never written went back to waiting');
    return repaired;
  }
}

import type { Types } from 'mongoose';
import type { Hold, HoldSource, Key, SessionAvailability } from '@slotcast/shared';
import type { SessionCatalog } from '../availability/catalog.ts';
import type { AvailabilityReads } from '../availability/reads.ts';
import { hasRole, type Principal } from '../auth/tokens.ts';
import type { Models, HoldDoc } from '../db/models.ts';
import type { MappedDocuments } from '../schema/collections.ts';
import { holdOf, keyOfDoc, updateIf } from './docs.ts';
import { ForbiddenError, GuardError, InputError } from './errors.ts';
import { NotFoundError } from '../availability/errors.ts';
import type { IdempotentCalls } from './idempotency.ts';
import type { CapacityLedger } from './ledger.ts';
import { objectId, requireBookable, type capacityReader } from './places.ts';
import type { Waitlist } from './waitlist.ts';

export interface GuardOptions {
  holdTtlSeconds: number;
  holdMaxTtlSeconds: number;
}

export interface GuardParts {
  models: Models;
  /** Bookings are yours (SCHEMA_FILE): written through the mapping; holds and the rest are the hub's. */
  documents: MappedDocuments;
  catalog: SessionCatalog;
  reads: AvailabilityReads;
  ledger: CapacityLedger;
  idempotent: IdempotentCalls;
  /** A key's capacity now, for the checks before places are taken. */
  capacityOf: ReturnType<typeof capacityReader>;
  options: GuardOptions;
}

export interface HoldShape {
  expiresAt: Date;
  source: HoldSource;
  bookingId?: Types.ObjectId;
}

/**
 * Takes places for a new hold: the ledger admits them (or refuses with how many are free), then
 * the hold is written, then the claim is settled. A bookingId makes it a booking in the making;
 * a waitlist offer may take places owed to the waitlist.
 */
export async function takePlaces(
  parts: Pick<GuardParts, 'ledger' | 'models'>,
  hold: { holdId: Types.ObjectId; key: Key; userId: string; quantity: number } & HoldShape,
): Promise<HoldDoc> {
  const { holdId, key, userId, quantity } = hold;
  const admitted = await parts.ledger.admit(key, holdId, quantity, { forWaitlist: hold.source === 'waitlist' });
  if (!admitted.admitted) throw GuardError.insufficient(admitted.free, quantity);
  const now = new Date();
  const doc = {
    _id: holdId,
    sessionId: objectId(key.sessionId),
    date: key.date,
    userId,
    quantity,
    status: 'active' as const,
    expiresAt: hold.expiresAt,
    source: hold.source,
    ...(hold.bookingId ? { bookingId: hold.bookingId } : {}),
    createdAt: now,
    updatedAt: now,
  };
  // Should this fail, the claim stays counted: the sweeper returns it once it can tell the hold was never written.
  await parts.models.Hold.collection.insertOne(doc);
  await parts.ledger.settle(key, holdId);
  return doc as HoldDoc;
}

/** How long a confirm keeps its hold counted while it writes the booking; a confirm that dies is rolled forward by the sweeper. */
export const CONFIRM_GRACE_MS = 60_000;

const MIN_TTL_SECONDS = 30;

/**
 * Holds and the bookings made from them: every way the hub takes places. Places are taken only
 * through the ledger (see ledger.ts); a hold's own state changes are conditional single-document
 * updates on the hold, so release, expiry and confirm of one hold cannot both happen.
 */
export class Holds {
  constructor(
    private readonly parts: GuardParts,
    private readonly waitlist: Waitlist,
  ) {}

  async create(principal: Principal, input: { sessionId: string; date: string; quantity: number; ttlSeconds?: number; idempotencyKey?: string }) {
    const ttl = this.ttlOf(input.ttlSeconds);
    return this.parts.idempotent.run({ userId: principal.userId, procedure: 'holds.create', key: input.idempotencyKey }, async (holdId, resumed) => {
      // Resumed: the failed run may have written its hold, which is then the answer.
      const written = resumed ? await this.parts.models.Hold.findOne({ _id: holdId, userId: principal.userId }).lean() : null;
      const hold =
        written ??
        (await this.take(holdId, { sessionId: input.sessionId, date: input.date }, principal.userId, input.quantity, {
          expiresAt: new Date(Date.now() + ttl * 1000),
          source: 'api',
        }));
      return { hold: holdOf(hold), availability: await this.parts.reads.fresh(keyOfDoc(hold)) };
    });
  }

  /** Takes places for a new hold (see `takePlaces`) after checking the key can be booked at all. */
  async take(holdId: Types.ObjectId, key: Key, userId: string, quantity: number, shape: HoldShape): Promise<HoldDoc> {
    const { catalog, reads, capacityOf } = this.parts;
    await requireBookable(catalog, capacityOf, key, quantity, reads.today());
    return takePlaces(this.parts, { holdId, key, userId, quantity, ...shape });
  }

  async extend(principal: Principal, input: { holdId: string; ttlSeconds: number }): Promise<{ hold: Hold }> {
    const ttl = this.ttlOf(input.ttlSeconds);
    const current = await this.own(principal, input.holdId);
    // An offer's time is the waitlist's to give (WAITLIST_OFFER_SECONDS): the next entry is waiting for it.
    if (current.source === 'waitlist') throw new InputError('holdId', 'a waitlist offer cannot be extended; confirm or release it');
    const now = new Date();
    const doc = await updateIf<HoldDoc>(
      this.parts.models.Hold,
      { _id: current._id, status: 'active', expiresAt: { $gt: now }, bookingId: { $exists: false } },
      { $set: { expiresAt: new Date(now.getTime() + ttl * 1000), updatedAt: now } },
    );
    if (!doc) throw GuardError.inactive(input.holdId, await this.statusOf(current._id));
    return { hold: holdOf(doc) };
  }

  async release(principal: Principal, input: { holdId: string }): Promise<{ hold: Hold; availability: SessionAvailability }> {
    const current = await this.own(principal, input.holdId);
    const now = new Date();
    const doc = await updateIf<HoldDoc>(
      this.parts.models.Hold,
      { _id: current._id, status: 'active', expiresAt: { $gt: now }, bookingId: { $exists: false } },
      { $set: { status: 'released', updatedAt: now } },
    );
    if (!doc) throw GuardError.inactive(input.holdId, await this.statusOf(current._id));
    await this.ended(doc);
    return { hold: holdOf(doc), availability: await this.parts.reads.fresh(keyOfDoc(doc)) };
  }

  /**
   * Turns an active hold into a booking. The hold's one conditional update (active, unexpired,
   * no booking yet → bookingId set) decides between confirm and expiry or release; from then on
   * the hold counts until the booking is written, and only then is it marked confirmed.
   */
  async confirm(principal: Principal, input: { holdId: string; idempotencyKey?: string }) {
    const current = await this.own(principal, input.holdId);
    return this.parts.idempotent.run({ userId: principal.userId, procedure: 'holds.confirm', key: input.idempotencyKey }, async (bookingId, resumed) => {
      // Resumed: if the failed run began the confirm (the hold carries its booking id), finishing it is the answer.
      const begun = resumed ? await this.parts.models.Hold.findOne({ _id: current._id, bookingId }).lean() : null;
      if (begun) return { booking: await this.complete(begun), availability: await this.parts.reads.fresh(keyOfDoc(begun)) };
      const now = new Date();
      const claimed = await updateIf<HoldDoc>(
        this.parts.models.Hold,
        { _id: current._id, status: 'active', expiresAt: { $gt: now }, bookingId: { $exists: false } },
        { $set: { bookingId, expiresAt: new Date(now.getTime() + CONFIRM_GRACE_MS), updatedAt: now } },
      );
      if (!claimed) throw GuardError.inactive(input.holdId, await this.statusOf(current._id));
      const booking = await this.complete(claimed);
      return { booking, availability: await this.parts.reads.fresh(keyOfDoc(claimed)) };
    });
  }

  /** Writes the booking of a hold whose confirm began (idempotent: the booking's id is the hold's bookingId), then marks the hold confirmed. */
  async complete(hold: HoldDoc) {
    const { models, documents } = this.parts;
    const booking = {
      _id: hold.bookingId!,
      sessionId: String(hold.sessionId),
      date: hold.date,
      userId: hold.userId,
      quantity: hold.quantity,
      status: 'confirmed' as const,
    };
    try {
      await documents.collections.bookings.insertOne(documents.mapping.newBooking(booking));
    } catch (error) {
      if ((error as { code?: number }).code !== 11000) throw error;
    }
    await models.Hold.updateOne({ _id: hold._id, status: 'active' }, { $set: { status: 'confirmed', updatedAt: new Date() } });
    if (hold.source === 'waitlist') await this.waitlist.offerAccepted(hold._id);
    const { _id, ...fields } = booking;
    return { bookingId: String(_id), ...fields };
  }

  /** A hold was released or expired: its places come back, to the waitlist first. */
  async ended(hold: HoldDoc): Promise<void> {
    if (hold.source === 'waitlist') await this.waitlist.offerEnded(hold._id, keyOfDoc(hold));
    else await this.waitlist.placesBack([keyOfDoc(hold)]);
  }

  /** The caller's active holds. */
  async mine(principal: Principal): Promise<Hold[]> {
    const docs = await this.parts.models.Hold.find({ userId: principal.userId, status: 'active', expiresAt: { $gt: new Date() } })
      .sort({ createdAt: 1 })
      .limit(500)
      .lean();
    return docs.map(holdOf);
  }

  private async own(principal: Principal, holdId: string): Promise<HoldDoc> {
    const doc = await this.parts.models.Hold.findById(holdId).lean();
    if (!doc) throw new NotFoundError(`no hold ${holdId}`);
    if (doc.userId !== principal.userId && !hasRole(principal, 'staff', 'admin')) throw new ForbiddenError(`hold ${holdId} is someone else's`);
    return doc;
  }

  private async statusOf(id: Types.ObjectId): Promise<string> {
    const doc = await this.parts.models.Hold.findById(id, { status: 1, expiresAt: 1, bookingId: 1 }).lean();
    if (!doc) return 'gone';
    if (doc.status === 'active' && doc.bookingId) return 'being confirmed';
    if (doc.status === 'active' && doc.expiresAt <= new Date()) return 'expired';
    return doc.status;
  }

  private ttlOf(ttlSeconds: number | undefined): number {
    const { holdTtlSeconds, holdMaxTtlSeconds } = this.parts.options;
    const ttl = ttlSeconds ?? holdTtlSeconds;
    if (ttl < MIN_TTL_SECONDS || ttl > holdMaxTtlSeconds) throw new InputError('ttlSeconds', `must be from ${MIN_TTL_SECONDS} to ${holdMaxTtlSeconds}`);
    return ttl;
  }
}

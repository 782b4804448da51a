import { Types } from 'mongoose';
import { parseKey } from '@slotcast/shared';
import type { Models } from '../db/models.ts';
import { within } from '../within.ts';
import type { Logger } from '../observability/logger.ts';
import type { Holds } from './holds.ts';
import type { CapacityLedger } from './ledger.ts';
import type { Waitlist } from './waitlist.ts';

/** How often due holds are expired: a hold's places come back within this (plus a feed round trip) of expiresAt. */
const EXPIRE_EVERY_MS = 200;
/** Holds expired per pass; more are left to the next pass. */
const EXPIRE_BATCH = 500;
/** A claim this old without its hold belongs to a call that died or stalled between admission and hold. */
const ABANDONED_CLAIM_MS = 30_000;
const CLAIMS_EVERY_MS = 5_000;
/** What a stop waits for a pass under way; the pass is harmless after it (it only changes what a leader may change). */
const STOP_WAIT_MS = 1_000;

/**
 * The guard's clock, on the leader only: expires holds at expiresAt whether or not anyone calls
 * (the TTL index only cleans up later), rolls forward confirms that died half way, and returns the
 * places of claims whose hold was never written.
 */
export class HoldSweeper {
  private expireTimer: NodeJS.Timeout | undefined;
  private claimsTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly parts: { models: Models; holds: Holds; ledger: CapacityLedger; waitlist: Waitlist; isLeader: () => boolean; logger: Logger },
  ) {}

  start(): void {
    const every = (ms: number, pass: () => Promise<unknown>) =>
      setInterval(() => {
        if (!this.parts.isLeader()) return;
        // One pass at a time; a slow MongoDB makes passes wait, never pile up.
        this.running = this.running.then(pass).then(() => undefined).catch((error: unknown) => this.parts.logger.warn({ err: error }, 'hold sweep failed; the next pass tries again'));
      }, ms);
    this.expireTimer = every(EXPIRE_EVERY_MS, () => this.expireDue());
    this.claimsTimer = every(CLAIMS_EVERY_MS, async () => {
      await this.returnAbandonedClaims();
      await this.parts.waitlist.repairOffers(ABANDONED_CLAIM_MS);
    });
  }

  /** Marks due holds expired (each by a conditional update, so a concurrent confirm or release wins or loses whole). */
  async expireDue(now = new Date()): Promise<number> {
    const { models, holds } = this.parts;
    const due = await models.Hold.find({ status: 'active', expiresAt: { $lte: now } }).limit(EXPIRE_BATCH).lean();
    let expired = 0;
    for (const hold of due) {
      if (hold.bookingId) {
        // A confirm began and did not finish: its booking is written now, as the confirm would have.
        await holds.complete(hold);
        continue;
      }
      const { modifiedCount } = await models.Hold.updateOne(
        { _id: hold._id, status: 'active', expiresAt: { $lte: now }, bookingId: { $exists: false } },
        { $set: { status: 'expired', updatedAt: new Date() } },
      );
      if (modifiedCount === 0) continue;
      await holds.ended(hold);
      expired += 1;
    }
    return expired;
  }

  /**
   * A claim whose hold was never written: a hold is written in its place, marked released, so
   * the stalled call's own write (should it wake up) fails on the duplicate id instead of taking
   * places twice; then the ledger is reconciled and the claim's places come back.
   */
  async returnAbandonedClaims(): Promise<number> {
    const { models, ledger } = this.parts;
    let returned = 0;
    for (const { key: text, claims } of await ledger.staleClaims(ABANDONED_CLAIM_MS)) {
      const key = parseKey(text);
      if (!key || claims.length === 0) continue;
      for (const claim of claims) {
        try {
          await models.Hold.collection.insertOne({
            _id: claim.id,
            sessionId: new Types.ObjectId(key.sessionId),
            date: key.date,
            userId: '',
            quantity: claim.quantity,
            status: 'released',
            expiresAt: claim.at,
            source: 'api',
            createdAt: new Date(),
            updatedAt: new Date(),
          });
          returned += 1;
        } catch (error) {
          // The hold exists: its call finished after all, and reconciling settles the claim.
          if ((error as { code?: number }).code !== 11000) throw error;
        }
      }
      await ledger.reconcile([key]);
    }
    if (returned > 0) this.parts.logger.warn({ returned }, 'returned the places of abandoned claims');
    return returned;
  }

  /** Stops the passes; waits for one under way at most STOP_WAIT_MS (a frozen MongoDB must not hold up a shutdown). */
  async stop(): Promise<void> {
    clearInterval(this.expireTimer);
    clearInterval(this.claimsTimer);
    await within(this.running, STOP_WAIT_MS);
  }
}

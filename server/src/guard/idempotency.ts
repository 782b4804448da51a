import { Types } from 'mongoose';
import type { Models } from '../db/models.ts';
import { GuardError } from './errors.ts';
import { GUARD_REASON } from '@slotcast/shared';

/** How long a key returns its first result. */
const KEEP_MS = 24 * 3600_000;
/** How long a retry waits for the first call with the same key to finish. */
const WAIT_MS = 10_000;
const POLL_MS = 20;

const isDuplicateKey = (error: unknown) => (error as { code?: number }).code === 11000;

/** A guarded write for the target id chosen for it; `resumed` when an earlier run for that id failed without an answer. */
type Work<T> = (targetId: Types.ObjectId, resumed: boolean) => Promise<T>;

/**
 * Runs a guarded write once per (user, procedure, key) for 24 hours. The serialization point is
 * the unique `_id` of the key's document: of calls racing on any instances, exactly one inserts
 * it and runs; the others wait for its stored result and return that. A refused call (not enough
 * places, say) stores nothing: it changed nothing, and the same key may be tried again later. The id of what
 * the first call makes is chosen before it runs and stored with the key. A call that fails without
 * an answer may have written part of its work: the next retry runs it again for the same id, told
 * it is `resumed`, and takes up what is written instead of doing it twice.
 */
export class IdempotentCalls {
  constructor(private readonly models: Models) {}

  async run<T>(scope: { userId: string; procedure: string; key: string | undefined }, work: Work<T>): Promise<T> {
    const targetId = new Types.ObjectId();
    if (scope.key === undefined) return work(targetId, false);
    const _id = `${scope.procedure}\u0000${scope.userId}\u0000${scope.key}`;
    try {
      await this.models.Idempotency.create({ _id, targetId, createdAt: new Date() });
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
      return this.firstResult<T>(_id, scope, work);
    }
    return this.attempt(_id, targetId, false, work);
  }

  private async attempt<T>(_id: string, targetId: Types.ObjectId, resumed: boolean, work: Work<T>): Promise<T> {
    try {
      const result = await work(targetId, resumed);
      await this.models.Idempotency.updateOne({ _id }, { $set: { result } });
      return result;
    } catch (error) {
      if (error instanceof GuardError) {
        // A refusal changed nothing: the key is free again, so a retry (once places are back) runs the call.
        await this.models.Idempotency.deleteOne({ _id }).catch(() => undefined);
      } else {
        // Not an answer (MongoDB or Redis away, say), though the work may be partly written: a retry runs it again, resumed.
        await this.models.Idempotency.updateOne({ _id }, { $set: { failedAt: new Date() } }).catch(() => undefined);
      }
      throw error;
    }
  }

  private async firstResult<T>(_id: string, scope: { userId: string; procedure: string; key: string | undefined }, work: Work<T>): Promise<T> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const doc = await this.models.Idempotency.findById(_id).lean();
      if (!doc) return this.run(scope, work);
      if (doc.createdAt.getTime() < Date.now() - KEEP_MS) {
        await this.models.Idempotency.deleteOne({ _id, createdAt: doc.createdAt });
        return this.run(scope, work);
      }
      if (doc.result !== undefined && doc.result !== null) return doc.result as T;
      if (doc.failedAt) {
        // One retry takes the failed call over (this conditional update decides which); the others wait for its answer.
        const { modifiedCount } = await this.models.Idempotency.updateOne({ _id, failedAt: doc.failedAt }, { $unset: { failedAt: 1 } });
        if (modifiedCount === 1) return this.attempt(_id, doc.targetId, true, work);
        continue;
      }
      if (Date.now() > deadline) throw new GuardError(GUARD_REASON.IN_PROGRESS, 'a call with this idempotency key is still running; retry with the same key');
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }
}

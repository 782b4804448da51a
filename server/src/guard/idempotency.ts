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

/**
 * Runs a guarded write once per (user, procedure, key) for 24 hours. The serialization point is
 * the unique `_id` of the key's document: of calls racing on any instances, exactly one inserts
 * it and runs; the others wait for its stored result and return that. A refused call (not enough
 * places, say) stores nothing: it changed nothing, and the same key may be tried again later. The id of what
 * the first call makes is chosen before it runs and stored with the key.
 */
export class IdempotentCalls {
  constructor(private readonly models: Models) {}

  async run<T>(scope: { userId: string; procedure: string; key: string | undefined }, work: (targetId: Types.ObjectId) => Promise<T>): Promise<T> {
    const targetId = new Types.ObjectId();
    if (scope.key === undefined) return work(targetId);
    const _id = `${scope.procedure}\u0000${scope.userId}\u0000${scope.key}`;
    try {
      await this.models.Idempotency.create({ _id, targetId, createdAt: new Date() });
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
      return this.firstResult<T>(_id, scope, work);
    }
    try {
      const result = await work(targetId);
      await this.models.Idempotency.updateOne({ _id }, { $set: { result } });
      return result;
    } catch (error) {
      // A refusal changed nothing, and an error is no answer (MongoDB away, say): either way the
      // key is free again, so a retry (once places are back) runs the call.
      await this.models.Idempotency.deleteOne({ _id }).catch(() => undefined);
      throw error;
    }
  }

  private async firstResult<T>(_id: string, scope: { userId: string; procedure: string; key: string | undefined }, work: (targetId: Types.ObjectId) => Promise<T>): Promise<T> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const doc = await this.models.Idempotency.findById(_id).lean();
      if (!doc) return this.run(scope, work);
      if (doc.createdAt.getTime() < Date.now() - KEEP_MS) {
        await this.models.Idempotency.deleteOne({ _id, createdAt: doc.createdAt });
        return this.run(scope, work);
      }
      if (doc.result !== undefined && doc.result !== null) return doc.result as T;
      if (Date.now() > deadline) throw new GuardError(GUARD_REASON.IN_PROGRESS, 'a call with this idempotency key is still running; retry with the same key');
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }
}

import type { Hold, Key } from '@slotcast/shared';
import type { HoldDoc } from '../db/models.ts';

/** The contract's `hold` of a stored document. */
export function holdOf(doc: HoldDoc): Hold {
  return {
    holdId: String(doc._id),
    sessionId: String(doc.sessionId),
    date: doc.date,
    userId: doc.userId,
    quantity: doc.quantity,
    status: doc.status,
    expiresAt: doc.expiresAt.toISOString(),
    source: doc.source,
    ...(doc.bookingId ? { bookingId: String(doc.bookingId) } : {}),
  };
}

/** The key a stored hold or booking counts on. */
export const keyOfDoc = (doc: { sessionId: { toString(): string }; date: string }): Key => ({ sessionId: String(doc.sessionId), date: doc.date });

/**
 * A conditional single-document update that answers with the document after it, or null when
 * the condition did not hold. Not findOneAndUpdate: mongo-java-server's change streams carry no
 * event for findAndModify, and the change feed must see every change of the collections it watches.
 */
export async function updateIf<D>(
  model: { updateOne(filter: object, update: object): PromiseLike<{ modifiedCount: number }>; findById(id: unknown): { lean(): PromiseLike<unknown> } },
  filter: { _id: unknown } & Record<string, unknown>,
  update: object,
): Promise<D | null> {
  const { modifiedCount } = await model.updateOne(filter, update);
  if (modifiedCount === 0) return null;
  return (await model.findById(filter._id).lean()) as D | null;
}

import type { Collection } from 'mongoose';
import type { Logger } from '../observability/logger.ts';
import type { DocumentCollections } from './collections.ts';
import type { DocumentSchema } from './mapping.ts';

type Spec = Record<string, 1>;

/**
 * The indexes the hub's queries need on mapped collections (none on sessions: they are read
 * whole). Never unique, never dropped or changed: an index with the same keys, whatever its
 * name and options, is taken as it is.
 */
export function neededIndexes(schema: DocumentSchema): { bookings: Spec[]; overrides: Spec[] } {
  const b = schema.bookings.fields;
  const o = schema.overrides.fields;
  return {
    bookings: [
      // Availability of one key, and of a whole date or range: active bookings by these fields.
      { [b.sessionId]: 1, [b.date]: 1, [b.status]: 1 },
      { [b.date]: 1, [b.status]: 1 },
      // A user's upcoming bookings, for the private channel.
      { [b.userId]: 1, [b.date]: 1 },
      // The polling fallback reads recent changes.
      { [b.updatedAt]: 1 },
    ],
    overrides: [{ [o.sessionId]: 1, [o.date]: 1 }, { [o.date]: 1 }],
  };
}

const sameKeys = (a: Record<string, unknown>, b: Spec) => JSON.stringify(Object.entries(a)) === JSON.stringify(Object.entries(b));

/** Creates the needed indexes that are missing; logs which it created and which it found. */
export async function ensureMappedIndexes(collections: DocumentCollections, schema: DocumentSchema, logger?: Logger): Promise<void> {
  const needed = neededIndexes(schema);
  for (const part of ['bookings', 'overrides'] as const) {
    const collection: Collection = collections[part];
    const existing = await collection.listIndexes().toArray().catch((error: { codeName?: string; code?: number }) => {
      if (error.code === 26 || error.codeName === 'NamespaceNotFound') return [];
      throw error;
    });
    const created: string[] = [];
    const found: string[] = [];
    for (const spec of needed[part]) {
      const name = Object.keys(spec).join('_');
      if (existing.some((index) => sameKeys(index.key as Record<string, unknown>, spec))) {
        found.push(name);
        continue;
      }
      await collection.createIndex(spec, { name: `slotcast_${name}` });
      created.push(`slotcast_${name}`);
    }
    logger?.info({ collection: collection.collectionName, created, alreadyThere: found }, 'indexes the hub needs on a mapped collection');
  }
}

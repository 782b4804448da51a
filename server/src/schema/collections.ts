import type { Collection, Connection } from 'mongoose';
import { DocumentMapping } from './documents.ts';
import { DEFAULT_SCHEMA, type DocumentSchema } from './mapping.ts';
import type { Misfits } from './misfits.ts';

/** The collections availability is computed from, under the schema in force. */
export interface DocumentCollections {
  sessions: Collection;
  bookings: Collection;
  overrides: Collection;
}

/** The mapping and the collections it names, on one connection: what every part that touches documents is given. */
export interface MappedDocuments {
  mapping: DocumentMapping;
  collections: DocumentCollections;
}

export function mappedDocuments(connection: Connection, schema: DocumentSchema = DEFAULT_SCHEMA, options: { timeZone?: string; misfits?: Misfits } = {}): MappedDocuments {
  const mapping = new DocumentMapping(schema, options.timeZone ?? 'UTC', options.misfits);
  return {
    mapping,
    collections: {
      sessions: connection.collection(schema.sessions.collection),
      bookings: connection.collection(schema.bookings.collection),
      overrides: connection.collection(schema.overrides.collection),
    },
  };
}

import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ACTIVE_BOOKING_STATUS } from '@slotcast/shared';

/**
 * Where the hub finds sessions, bookings and overrides (SCHEMA_FILE): collections, field paths
 * (dotted paths reach into sub-documents), the statuses that take places and those the hub
 * writes, and how session ids and dates are stored. Every key is optional; what is left out keeps
 * the default names (docs/data-model.md). The hub's own collections (holds, waitlist, ledgers,
 * idempotency keys) keep their names.
 */
export interface DocumentSchema {
  /** False for the default names: the hub then keeps its own indexes on them (db/models.ts). */
  mapped: boolean;
  sessions: { collection: string; fields: SessionFields };
  bookings: {
    collection: string;
    fields: BookingFields;
    activeStatuses: string[];
    writeStatuses: { confirmed: string; cancelled: string };
  };
  overrides: { collection: string; fields: OverrideFields };
  types: { sessionId: 'objectId' | 'string'; date: 'string' | 'date' };
}
export interface SessionFields { name: string; startTime: string; endTime: string; capacity: string; daysOfWeek: string; active: string }
export interface BookingFields { sessionId: string; date: string; userId: string; quantity: string; status: string; createdAt: string; updatedAt: string }
export interface OverrideFields { sessionId: string; date: string; capacity: string; closed: string }

export const DEFAULT_SCHEMA: DocumentSchema = {
  mapped: false,
  sessions: {
    collection: 'sessions',
    fields: { name: 'name', startTime: 'startTime', endTime: 'endTime', capacity: 'capacity', daysOfWeek: 'daysOfWeek', active: 'active' },
  },
  bookings: {
    collection: 'bookings',
    fields: { sessionId: 'sessionId', date: 'date', userId: 'userId', quantity: 'quantity', status: 'status', createdAt: 'createdAt', updatedAt: 'updatedAt' },
    activeStatuses: [...ACTIVE_BOOKING_STATUS],
    writeStatuses: { confirmed: 'confirmed', cancelled: 'cancelled' },
  },
  overrides: { collection: 'session_overrides', fields: { sessionId: 'sessionId', date: 'date', capacity: 'capacity', closed: 'closed' } },
  types: { sessionId: 'objectId', date: 'string' },
};

/** The hub writes these itself; a mapping that pointed at them would mix two writers' documents. */
const HUB_COLLECTIONS = ['holds', 'waitlist', 'capacity_ledgers', 'idempotency_keys'];

const text = z.string({ error: 'expected a string' }).min(1, { error: 'must not be empty' });
const collection = text
  .refine((name) => !name.includes('$') && !name.startsWith('system.'), { error: 'must be a collection name (no $, not system.*)' })
  .refine((name) => !HUB_COLLECTIONS.includes(name), { error: `must not be one of the hub's own collections (${HUB_COLLECTIONS.join(', ')})` });
/** a.b.c: no empty part, none starting with $ (an operator), as MongoDB's field paths. */
const fieldPath = text.refine((path) => path.split('.').every((part) => part.length > 0 && !part.startsWith('$')), {
  error: 'must be a field path such as "day" or "slot.day" (no empty part, none starting with $)',
});
const fields = <K extends string>(keys: readonly K[]) =>
  z.strictObject(Object.fromEntries(keys.map((key) => [key, fieldPath.optional()])) as Record<K, z.ZodOptional<typeof fieldPath>>, {
    error: 'expected an object',
  });

const mappingSchema = z.strictObject(
  {
    sessions: z.strictObject({ collection: collection.optional(), fields: fields(['name', 'startTime', 'endTime', 'capacity', 'daysOfWeek', 'active']).optional() }, { error: 'expected an object' }).optional(),
    bookings: z
      .strictObject(
        {
          collection: collection.optional(),
          fields: fields(['sessionId', 'date', 'userId', 'quantity', 'status', 'createdAt', 'updatedAt']).optional(),
          activeStatuses: z.array(text, { error: 'expected an array of strings' }).min(1, { error: 'must name at least one status' }).optional(),
          writeStatuses: z.strictObject({ confirmed: text.optional(), cancelled: text.optional() }, { error: 'expected an object' }).optional(),
        },
        { error: 'expected an object' },
      )
      .optional(),
    overrides: z.strictObject({ collection: collection.optional(), fields: fields(['sessionId', 'date', 'capacity', 'closed']).optional() }, { error: 'expected an object' }).optional(),
    types: z
      .strictObject(
        {
          sessionId: z.enum(['objectId', 'string'], { error: 'expected "objectId" or "string"' }).optional(),
          date: z.enum(['string', 'date'], { error: 'expected "string" or "date"' }).optional(),
        },
        { error: 'expected an object' },
      )
      .optional(),
  },
  { error: 'expected a JSON object' },
);

/** A mapping that cannot be used: `key` names where in the file (e.g. `bookings.collection`). */
export class MappingError extends Error {
  constructor(
    readonly key: string,
    readonly detail: string,
  ) {
    super(`${key}: ${detail}`);
    this.name = 'MappingError';
  }
}

/** The full schema a (validated) mapping means: defaults wherever it says nothing. */
export function parseMapping(input: unknown): DocumentSchema {
  const result = mappingSchema.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const extra = issue.code === 'unrecognized_keys' ? issue.keys[0] : undefined;
    const key = [...issue.path, ...(extra === undefined ? [] : [extra])].map(String).join('.') || '(file)';
    throw new MappingError(key, extra === undefined ? issue.message : 'is not a key of the mapping');
  }
  const m = result.data;
  const d = DEFAULT_SCHEMA;
  const schema: DocumentSchema = {
    mapped: true,
    sessions: { collection: m.sessions?.collection ?? d.sessions.collection, fields: { ...d.sessions.fields, ...defined(m.sessions?.fields) } },
    bookings: {
      collection: m.bookings?.collection ?? d.bookings.collection,
      fields: { ...d.bookings.fields, ...defined(m.bookings?.fields) },
      activeStatuses: m.bookings?.activeStatuses ?? d.bookings.activeStatuses,
      writeStatuses: { ...d.bookings.writeStatuses, ...defined(m.bookings?.writeStatuses) },
    },
    overrides: { collection: m.overrides?.collection ?? d.overrides.collection, fields: { ...d.overrides.fields, ...defined(m.overrides?.fields) } },
    types: { ...d.types, ...defined(m.types) },
  };
  checkConsistent(schema);
  return schema;
}

const defined = <T extends object>(value: T | undefined): Partial<T> =>
  Object.fromEntries(Object.entries(value ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;

/** What zod cannot see key by key: statuses that contradict each other, collections or fields used twice. */
function checkConsistent(schema: DocumentSchema): void {
  const { activeStatuses, writeStatuses } = schema.bookings;
  if (!activeStatuses.includes(writeStatuses.confirmed)) {
    throw new MappingError('bookings.writeStatuses.confirmed', `"${writeStatuses.confirmed}" must be one of activeStatuses (${activeStatuses.join(', ')}), or a booking the hub makes would not count`);
  }
  if (activeStatuses.includes(writeStatuses.cancelled)) {
    throw new MappingError('bookings.writeStatuses.cancelled', `"${writeStatuses.cancelled}" must not be one of activeStatuses, or a cancelled booking would still count`);
  }
  const names = [schema.sessions.collection, schema.bookings.collection, schema.overrides.collection];
  if (new Set(names).size !== names.length) throw new MappingError('bookings.collection', 'sessions, bookings and overrides must be three different collections');
  for (const part of ['sessions', 'bookings', 'overrides'] as const) {
    const paths = Object.entries(schema[part].fields);
    for (const [field, path] of paths) {
      const clash = paths.find(([other, otherPath]) => other !== field && (otherPath === path || otherPath.startsWith(`${path}.`)));
      if (clash) throw new MappingError(`${part}.fields.${field}`, `"${path}" is also (or contains) ${part}.fields.${clash[0]}`);
      if (path === '_id' || path.startsWith('_id.')) throw new MappingError(`${part}.fields.${field}`, 'must not be _id (the hub keys documents by their _id)');
    }
  }
}

/** Reads and validates SCHEMA_FILE; a MappingError names the bad key ("(file)" when it is not JSON at all). */
export function loadMapping(path: string): DocumentSchema {
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (error) {
    throw new MappingError('(file)', `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let input: unknown;
  try {
    input = JSON.parse(raw);
  } catch (error) {
    throw new MappingError('(file)', `is not JSON (${(error as Error).message})`);
  }
  return parseMapping(input);
}

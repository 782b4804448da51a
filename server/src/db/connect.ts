import mongoose, { type Connection } from 'mongoose';
import type { Logger } from '../observability/logger.ts';
import { within } from '../within.ts';
import { createModels, type Models } from './models.ts';
import { mappedDocuments, type MappedDocuments } from '../schema/collections.ts';
import { ensureMappedIndexes } from '../schema/indexes.ts';
import { DEFAULT_SCHEMA, type DocumentSchema } from '../schema/mapping.ts';
import type { Misfits } from '../schema/misfits.ts';

export interface Database {
  connection: Connection;
  models: Models;
  /** Sessions, bookings and overrides under the schema in force, with the mapping that reads them. */
  documents: MappedDocuments;
  /** True when MongoDB answers a ping within PING_TIMEOUT_MS; never waits longer. */
  ping(): Promise<boolean>;
  /** Closes the connection, waiting at most CLOSE_TIMEOUT_MS for a MongoDB that does not answer. */
  close(): Promise<void>;
}

/**
 * Driver timeouts, used unless the URI sets them. A MongoDB that stops answering (paused,
 * partitioned) is noticed by the heartbeat within heartbeatFrequencyMS + connectTimeoutMS (10 s
 * at most): it is marked unknown and the operations waiting on it fail instead of hanging. With
 * the driver's defaults (10 s + 30 s) they hang for up to 40 s, past the feed's stall limit.
 * serverSelectionTimeoutMS bounds how long an operation waits for MongoDB to come back.
 */
const DRIVER_TIMEOUTS = { serverSelectionTimeoutMS: 10_000, connectTimeoutMS: 5_000, heartbeatFrequencyMS: 5_000 };
/**
 * /readyz must answer within a second, whatever MongoDB does, and a loaded machine adds its own
 * delay to that. So a ping is waited for at most this long from when it was sent, and a check that
 * joins an older ping waits only what is left of it. The first ping of a hub (a cold connection,
 * often on a busy start-up) gets the longest wait; once MongoDB is known not to answer, a shorter
 * one is enough to see it come back.
 */
const PING_TIMEOUT_MS = { first: 800, answering: 600, outage: 300 } as const;
/** A ping still unanswered after this is left to fail by itself and the next check sends a new one; until then checks share it, so pings never pile up. */
const PING_RENEW_MS = 5_000;
/** Shutdown waits this long for the driver to end its sessions and cursors on a MongoDB that does not answer. */
const CLOSE_TIMEOUT_MS = 2_000;

export interface ConnectOptions {
  syncIndexes?: boolean;
  /** How long the first connect (and each operation) waits for a server; the URI's value wins. */
  serverSelectionTimeoutMS?: number;
  /** Where MongoDB going away and coming back is logged (a short outage must not be silent). */
  logger?: Logger;
  /** SCHEMA_FILE's schema; the default names when unset. */
  schema?: DocumentSchema;
  /** TIMEZONE: in which a BSON Date is a calendar date (types.date "date"). */
  timeZone?: string;
  misfits?: Misfits;
}

/** Opens a dedicated connection (not mongoose's global one) and makes sure the indexes exist. */
export async function connectDatabase(uri: string, options: ConnectOptions = {}): Promise<Database> {
  const schema = options.schema ?? DEFAULT_SCHEMA;
  // Under a mapping the default-named models are never written: they must not create empty collections in your database.
  const connection = mongoose.createConnection(uri, { ...timeoutsNotIn(uri, options.serverSelectionTimeoutMS), autoIndex: false, autoCreate: !schema.mapped });
  await connection.asPromise();
  const models = createModels(connection);
  const documents = mappedDocuments(connection, schema, { timeZone: options.timeZone, misfits: options.misfits });
  if (options.syncIndexes ?? true) {
    // Mapped collections are yours: only the indexes the hub's queries need, added, never changed (schema/indexes.ts).
    const own = schema.mapped ? [models.Hold, models.Ledger, models.Waitlist, models.Idempotency] : Object.values(models);
    await Promise.all(own.map((model) => model.createIndexes()));
    if (schema.mapped) await ensureMappedIndexes(documents.collections, schema, options.logger);
  }
  const health = outageLog(options.logger);
  const client = connection.getClient();
  // Per server: in a replica set one member may fail its heartbeats while the primary answers.
  client.on('serverHeartbeatFailed', (event) => health.failed(event.connectionId, event.failure.message));
  client.on('serverHeartbeatSucceeded', (event) => health.answered(event.connectionId));

  let pending: { sentAt: number; answer: Promise<boolean> } | undefined;
  let lastAnswer: boolean | undefined;
  const sendPing = (): Promise<boolean> => {
    const db = connection.db;
    if (!db) return Promise.resolve(false);
    return db
      .admin()
      .ping()
      .then(
        () => {
          health.answered(PING);
          return (lastAnswer = connection.readyState === 1);
        },
        (error: Error) => {
          health.failed(PING, error.message);
          return (lastAnswer = false);
        },
      );
  };
  const ping = async () => {
    if (!pending || performance.now() - pending.sentAt > PING_RENEW_MS) {
      const sent = { sentAt: performance.now(), answer: sendPing() };
      pending = sent;
      void sent.answer.finally(() => {
        if (pending === sent) pending = undefined;
      });
    }
    const timeoutMs = PING_TIMEOUT_MS[lastAnswer === undefined ? 'first' : lastAnswer ? 'answering' : 'outage'];
    const result = await within(pending.answer, Math.max(0, timeoutMs - (performance.now() - pending.sentAt)));
    if (result.settled) return result.value;
    health.failed(PING, `no answer to a ping in ${timeoutMs} ms`);
    lastAnswer = false;
    return false;
  };
  // Start-up sends the first ping itself, so the first /readyz finds a warm connection and a known state.
  await ping();
  return {
    connection,
    models,
    documents,
    ping,
    async close() {
      const closed = await within(connection.close(), CLOSE_TIMEOUT_MS);
      if (!closed.settled) options.logger?.warn({ waitedMs: CLOSE_TIMEOUT_MS }, 'MongoDB did not close in time; leaving its connections to time out');
    },
  };
}

/** The driver timeouts the URI does not set itself (an operator's URI options win). */
function timeoutsNotIn(uri: string, serverSelectionTimeoutMS?: number): Partial<typeof DRIVER_TIMEOUTS> {
  const query = /\?(.*)$/.exec(uri)?.[1] ?? '';
  const set = new Set([...new URLSearchParams(query).keys()].map((key) => key.toLowerCase()));
  const timeouts = { ...DRIVER_TIMEOUTS, ...(serverSelectionTimeoutMS === undefined ? {} : { serverSelectionTimeoutMS }) };
  return Object.fromEntries(Object.entries(timeouts).filter(([key]) => !set.has(key.toLowerCase())));
}

/** The `server` of outages seen by pings (the database as this hub uses it), beside heartbeats' host:port. */
const PING = 'ping';

/** Logs the first failure of an outage and the first answer after it, with how long it lasted; per server. */
function outageLog(logger: Logger | undefined) {
  const downSince = new Map<string, number>();
  return {
    failed(server: string, why: string) {
      if (downSince.has(server)) return;
      downSince.set(server, performance.now());
      logger?.warn({ server, err: why }, 'MongoDB is not answering');
    },
    answered(server: string) {
      const since = downSince.get(server);
      if (since === undefined) return;
      downSince.delete(server);
      logger?.info({ server, outageMs: Math.round(performance.now() - since) }, 'MongoDB answers again');
    },
  };
}

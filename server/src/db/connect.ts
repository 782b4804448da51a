import mongoose, { type Connection } from 'mongoose';
import { createModels, type Models } from './models.ts';

export interface Database {
  connection: Connection;
  models: Models;
  /** True when MongoDB answers a ping. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Opens a dedicated connection (not mongoose's global one) and makes sure the indexes exist.
 * serverSelectionTimeoutMS: how long the first connect (and each operation) waits for a server.
 */
export async function connectDatabase(uri: string, options: { syncIndexes?: boolean; serverSelectionTimeoutMS?: number } = {}): Promise<Database> {
  const connection = mongoose.createConnection(uri, {
    serverSelectionTimeoutMS: options.serverSelectionTimeoutMS ?? 10_000,
    autoIndex: false,
  });
  await connection.asPromise();
  const models = createModels(connection);
  if (options.syncIndexes ?? true) {
    await Promise.all(Object.values(models).map((model) => model.createIndexes()));
  }
  return {
    connection,
    models,
    async ping() {
      try {
        await connection.db?.admin().ping();
        return connection.readyState === 1;
      } catch {
        return false;
      }
    },
    async close() {
      await connection.close();
    },
  };
}

import mongoose, { type Connection } from 'mongoose';
import { createModels, type Models } from './models.ts';

export interface Database {
  connection: Connection;
  models: Models;
  /** True when MongoDB answers a ping. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** Opens a dedicated connection (not mongoose's global one) and makes sure the indexes exist. */
export async function connectDatabase(uri: string, options: { syncIndexes?: boolean } = {}): Promise<Database> {
  const connection = mongoose.createConnection(uri, {
    serverSelectionTimeoutMS: 10_000,
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

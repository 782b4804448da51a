import { inject } from 'vitest';
import { whenDone } from './cleanup.ts';
import { connectDatabase, type ConnectOptions, type Database } from '../../server/src/db/connect.ts';
import { withDatabase } from '../../server/src/devservices/services.ts';
import { unique } from './names.ts';

/** This worker's MongoDB server (files in one worker run one at a time). */
export function testServerUri(): string {
  const uris = inject('mongoUris');
  return uris[(Number(process.env.VITEST_POOL_ID ?? 1) - 1) % uris.length]!;
}

export function testDatabaseUri(): string {
  return withDatabase(testServerUri(), unique('t'));
}

/** Connects to a fresh database for this file and drops it after the file's tests. */
export async function openTestDatabase(uri = testDatabaseUri(), options: ConnectOptions = {}): Promise<Database & { uri: string }> {
  const database = await connectDatabase(uri, options);
  whenDone(async () => {
    await database.connection.dropDatabase();
    await database.close();
  });
  return Object.assign(database, { uri });
}

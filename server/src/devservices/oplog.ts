import { mongo } from 'mongoose';

/**
 * mongo-java-server keeps every oplog entry forever and scans all of them on each change-stream
 * pull (about 0.13 ms per 1,000 entries, measured), so a long-lived embedded server gets slower
 * with every write it has seen. Trimming old entries gives it what a real replica set's capped
 * oplog has: bounded history. Unlike a real one it does not report a resume from a trimmed
 * position (no ChangeStreamHistoryLost); the resync every new leader runs covers that gap.
 */
export async function trimOplog(serverUri: string, olderThan: Date): Promise<number> {
  return deleteFromOplog(serverUri, { ts: { $lt: new mongo.Timestamp({ t: Math.floor(olderThan.getTime() / 1000), i: 0 }) } });
}

/** Empties the oplog: only safe while nothing that may resume from it is running. */
export function clearOplog(serverUri: string): Promise<number> {
  return deleteFromOplog(serverUri, {});
}

async function deleteFromOplog(serverUri: string, filter: mongo.Filter<mongo.Document>): Promise<number> {
  const client = await new mongo.MongoClient(serverUri, { serverSelectionTimeoutMS: 5_000 }).connect();
  try {
    return (await client.db('local').collection('oplog.rs').deleteMany(filter)).deletedCount;
  } finally {
    await client.close();
  }
}

/** Trims the oplog to the last `retentionMs` every `retentionMs / 10`; returns a stop function. */
export function keepOplogFor(serverUri: string, retentionMs: number, onError: (error: unknown) => void): () => void {
  const timer = setInterval(() => {
    trimOplog(serverUri, new Date(Date.now() - retentionMs)).catch(onError);
  }, retentionMs / 10);
  timer.unref();
  return () => clearInterval(timer);
}

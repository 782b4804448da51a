import { startRedisServer, type RedisServer } from './redis-server.ts';
import { startWireServer, type WireServer } from './wire-server.ts';

export interface DevServices {
  /** Base MongoDB URI with no database name; see `withDatabase`. */
  mongoUri: string;
  /** One base URI per requested wire server (the environment's MONGODB_URI once when set). */
  mongoUris: string[];
  redisUrl?: string;
  /** Present when this helper started them (not when the URI came from the environment). */
  wireServers: WireServer[];
  redisServer?: RedisServer;
  stop(): Promise<void>;
}

/**
 * The one way to get a MongoDB and a Redis for tests, benchmarks and `npm start`: use the
 * environment's MONGODB_URI / REDIS_URL when set, otherwise start local throwaway servers.
 */
export async function startDevServices(options: {
  redis: boolean;
  /** Separate wire servers, so parallel users do not share one oplog (tests: one per worker). */
  wireServers?: number;
  env?: NodeJS.ProcessEnv;
}): Promise<DevServices> {
  const env = options.env ?? process.env;
  const started = await Promise.allSettled(
    env.MONGODB_URI ? [] : Array.from({ length: options.wireServers ?? 1 }, () => startWireServer()),
  );
  const wireServers = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  let redisServer: RedisServer | undefined;
  try {
    const failed = started.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
    redisServer = options.redis && !env.REDIS_URL ? await startRedisServer() : undefined;
  } catch (error) {
    await Promise.all(wireServers.map((server) => server.stop()));
    throw error;
  }
  const mongoUris = env.MONGODB_URI ? [env.MONGODB_URI] : wireServers.map((server) => server.uri);
  return {
    mongoUri: mongoUris[0]!,
    mongoUris,
    redisUrl: options.redis ? (env.REDIS_URL ?? redisServer!.url) : undefined,
    wireServers,
    redisServer,
    async stop() {
      await Promise.all([...wireServers.map((server) => server.stop()), redisServer?.stop()]);
    },
  };
}

/** The same server with another database name, keeping credentials and options. */
export function withDatabase(uri: string, database: string): string {
  // Not `new URL`: a replica-set URI lists several host:port pairs, which URL refuses.
  const match = /^(mongodb(?:\+srv)?:\/\/[^/?]+)(?:\/[^?]*)?(\?.*)?$/.exec(uri);
  if (!match) throw new Error(`not a MongoDB URI: ${uri}`);
  return `${match[1]}/${database}${match[2] ?? ''}`;
}

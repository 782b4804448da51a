import { startRedisServer, type RedisServer } from './redis-server.ts';
import { startWireServer, type WireServer } from './wire-server.ts';

export interface DevServices {
  /** Base MongoDB URI with no database name; see `withDatabase`. */
  mongoUri: string;
  redisUrl?: string;
  /** Present when this helper started the process (not when the URI came from the environment). */
  wireServer?: WireServer;
  redisServer?: RedisServer;
  stop(): Promise<void>;
}

/**
 * The one way to get a MongoDB and a Redis for tests, benchmarks and `npm start`: use the
 * environment's MONGODB_URI / REDIS_URL when set, otherwise start local throwaway servers.
 */
export async function startDevServices(options: {
  redis: boolean;
  env?: NodeJS.ProcessEnv;
}): Promise<DevServices> {
  const env = options.env ?? process.env;
  const wireServer = env.MONGODB_URI ? undefined : await startWireServer();
  let redisServer: RedisServer | undefined;
  try {
    redisServer = options.redis && !env.REDIS_URL ? await startRedisServer() : undefined;
  } catch (error) {
    await wireServer?.stop();
    throw error;
  }
  return {
    mongoUri: env.MONGODB_URI ?? wireServer!.uri,
    redisUrl: options.redis ? (env.REDIS_URL ?? redisServer!.url) : undefined,
    wireServer,
    redisServer,
    async stop() {
      await Promise.all([wireServer?.stop(), redisServer?.stop()]);
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

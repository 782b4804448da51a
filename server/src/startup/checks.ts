import { createServer } from 'node:net';
import type { Config } from '../config/env.ts';
import { ensureWireServerJars } from '../devservices/wire-server.ts';
import { maskCredentials } from '../config/secrets.ts';
import { StartupError } from './errors.ts';

/**
 * How long the first connection to MONGODB_URI may take before start-up gives up. A MongoDB that
 * answers does so in milliseconds (an Atlas cluster, DNS and TLS included, in well under a second).
 */
export const DATABASE_CHECK_MS = 3_000;

/**
 * What can be known to fail before anything starts, checked in a few seconds at most: the listen
 * address, then the database (MONGODB_URI answers, or Java and the embedded database's jars are there).
 * Throws a StartupError naming the variable or the tool.
 */
export async function checkBeforeStart(config: Config): Promise<void> {
  await checkListenAddress(config.PORT, config.HOST);
  await checkRedisMode(config);
  if (config.MONGODB_URI) await checkDatabase(config.MONGODB_URI);
  else ensureWireServerJars();
}

/** How long the Redis mode check waits for an answer; a Redis that does not answer is left to /readyz. */
export const REDIS_CHECK_MS = 1_500;

/**
 * REDIS_URL at a node of a Redis Cluster would start a hub whose multi-key commands fail with
 * CROSSSLOT and whose lease never renews; REDIS_CLUSTER_NODES at a plain Redis would never find
 * its slots. Asks the (first) server `INFO cluster` once and refuses the wrong variable in one
 * line. A Redis that does not answer in time is not refused: the hub starts and reports unready.
 */
export async function checkRedisMode(config: Pick<Config, 'REDIS_URL' | 'REDIS_CLUSTER_NODES'>, timeoutMs = REDIS_CHECK_MS): Promise<void> {
  const seed = config.REDIS_CLUSTER_NODES?.[0];
  if (!config.REDIS_URL && !seed) return;
  const { Redis } = await import('ioredis');
  const options = { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false };
  const redis = config.REDIS_URL ? new Redis(config.REDIS_URL, options) : new Redis({ ...options, host: seed!.host, port: seed!.port });
  redis.on('error', () => undefined);
  let text: string;
  try {
    const answer = redis.connect().then(() => redis.info('cluster'));
    // Settled after the race is decided (a late failure once disconnected): never unhandled.
    answer.catch(() => undefined);
    const late = new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), timeoutMs).unref());
    const found = await Promise.race([answer, late]).catch(() => undefined);
    if (found === undefined) return;
    text = found;
  } finally {
    redis.disconnect();
  }
  const enabled = /cluster_enabled:1/.test(text);
  if (config.REDIS_URL && enabled) {
    throw new StartupError('REDIS_URL points at a node of a Redis Cluster (cluster_enabled:1): set REDIS_CLUSTER_NODES=host:port,host:port,... instead of REDIS_URL');
  }
  if (seed && !enabled) {
    throw new StartupError(`REDIS_CLUSTER_NODES: ${seed.host}:${seed.port} is not a Redis Cluster node (cluster_enabled:0): set REDIS_URL for a single Redis`);
  }
}

/** Binds the address the hub will listen on and lets it go; PORT 0 (any free port) cannot be taken. */
export async function checkListenAddress(port: number, host: string): Promise<void> {
  if (port === 0) return;
  const probe = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen(port, host, resolve);
    });
  } catch (error) {
    throw listenFailure(error, port, host) ?? error;
  }
  await new Promise<void>((resolve, reject) => probe.close((error) => (error ? reject(error) : resolve())));
}

/** Connects once with a short server selection and lets go; the hub then opens its own connection. */
export async function checkDatabase(uri: string, timeoutMs = DATABASE_CHECK_MS): Promise<void> {
  // Loaded here, not at the top: mongoose takes a second or more to load, which the other checks need not wait for.
  const { connectDatabase } = await import('../db/connect.ts');
  let database;
  try {
    database = await connectDatabase(uri, { syncIndexes: false, serverSelectionTimeoutMS: timeoutMs });
  } catch (error) {
    throw databaseFailure(error, uri, timeoutMs) ?? error;
  }
  await database.close();
}

/** One line for a failed listen that names PORT or HOST, or undefined when it is something else. */
export function listenFailure(error: unknown, port: number, host: string): StartupError | undefined {
  const { code, syscall, hostname } = (error ?? {}) as NodeJS.ErrnoException & { hostname?: string };
  // Only the listen itself, or the lookup of HOST it starts; the same codes from elsewhere (MongoDB's DNS) are not about HOST.
  if (syscall !== 'listen' && !(syscall === 'getaddrinfo' && hostname === host)) return undefined;
  const where = `${host}:${port}`;
  switch (code) {
    case 'EADDRINUSE':
      return new StartupError(`PORT ${port} is already in use (${where}): stop what listens there, or set PORT to a free port (PORT=0 picks one)`, { cause: error });
    case 'EACCES':
      return new StartupError(`PORT ${port} needs privileges this user lacks (${where}): set PORT to 1024 or above`, { cause: error });
    case 'EADDRNOTAVAIL':
      return new StartupError(`HOST ${host} is not an address of this machine: set HOST to one of its addresses, or leave it unset (0.0.0.0)`, { cause: error });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new StartupError(`HOST ${host} does not resolve to an address: set HOST to an address or a known name, or leave it unset (0.0.0.0)`, { cause: error });
    default:
      return undefined;
  }
}

/** The hosts of a MongoDB URI, without credentials, database or options. */
function hostsOf(uri: string): string {
  return /^[a-z+]+:\/\/([^/?]*)/i.exec(maskCredentials(uri))?.[1]?.replace(/^\*\*\*@/, '') ?? 'the address given';
}

/** One line for a failed first connection that names MONGODB_URI, or undefined when it is something else. */
export function databaseFailure(error: unknown, uri: string, timeoutMs?: number): StartupError | undefined {
  if (!(error instanceof Error)) return undefined;
  const within = timeoutMs === undefined ? '' : ` within ${timeoutMs / 1000} s`;
  if (error.name === 'MongooseServerSelectionError' || error.name === 'MongoServerSelectionError') {
    return new StartupError(
      `MONGODB_URI does not answer: no MongoDB server at ${hostsOf(uri)} replied${within} (${error.message}); check the address and that MongoDB runs, or leave MONGODB_URI unset for the embedded database`,
      { cause: error },
    );
  }
  // mongodb+srv:// looks its hosts up in DNS first (querySrv, queryTxt).
  const { syscall } = error as NodeJS.ErrnoException;
  if (syscall?.startsWith('query')) {
    return new StartupError(`MONGODB_URI's hosts cannot be looked up in DNS (${error.message}): check the host name of the mongodb+srv:// address`, { cause: error });
  }
  if (error.name === 'MongoParseError' || error.name === 'MongoInvalidArgumentError' || error.name === 'MongoAPIError') {
    return new StartupError(`MONGODB_URI is not a usable connection string: ${error.message}`, { cause: error });
  }
  // 18: AuthenticationFailed. The message never says which part was wrong, and neither may this line.
  if ((error as { code?: unknown }).code === 18) {
    return new StartupError(`MONGODB_URI was refused by ${hostsOf(uri)}: authentication failed (check the user, password and authSource)`, { cause: error });
  }
  return undefined;
}

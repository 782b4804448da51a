import { startRedisServer, type RedisServer } from '../../server/src/devservices/redis-server.ts';
import { startRedisCluster, type RedisCluster } from '../../server/src/devservices/redis-cluster.ts';
import { whenDone } from './cleanup.ts';
import { connectDatabase, type Database } from '../../server/src/db/connect.ts';
import { testDatabaseUri } from './database.ts';
import { spawnHub, type HubProcess } from './hub-process.ts';
import { unique } from './names.ts';
import { TEST_JWT_SECRET } from './hub.ts';
import { connect, subscribe, Received, type HubClientSocket } from './sockets.ts';

export const LEASE_MS = 1000;

/**
 * Hub processes sharing one MongoDB database and a redis-server of their own (so a test may restart it),
 * or with `redisCluster`, a Redis Cluster of 3 masters and 3 replicas of their own (so a test may kill a master).
 * `mongoUri` (with a database name) points them at a MongoDB of the test's own, such as a wire server it may freeze.
 * Unless `defaults`, the lease is LEASE_MS and coalescing 20 ms, so that tests of other things take over quickly.
 */
export async function startCluster(options: { env?: Record<string, string>; mongoUri?: string; redisCluster?: boolean; defaults?: boolean } = {}) {
  const redisCluster: RedisCluster | undefined = options.redisCluster ? await startRedisCluster() : undefined;
  // With a cluster there is no single redis-server: `redis.server` and `restartRedis` are for the single-server case only.
  const redis: { server: RedisServer } = { server: redisCluster ? (undefined as never) : await startRedisServer() };
  const mongoUri = options.mongoUri ?? testDatabaseUri();
  const database: Database = await connectDatabase(mongoUri);
  const prefix = unique('cluster');
  const hubs: HubProcess[] = [];
  whenDone(async () => {
    await Promise.all(hubs.map((hub) => hub.stop('SIGKILL')));
    await database.connection.dropDatabase();
    await database.close();
    await (redisCluster ?? redis.server).stop();
  });
  const spawn = (name: string) => {
    const hub = spawnHub({
      PORT: '0',
      HOST: '127.0.0.1',
      MONGODB_URI: mongoUri,
      ...(redisCluster ? { REDIS_CLUSTER_NODES: redisCluster.seeds } : { REDIS_URL: redis.server.url }),
      REDIS_KEY_PREFIX: prefix,
      INSTANCE_ID: name,
      JWT_SECRET: TEST_JWT_SECRET,
      // `defaults`: the lease and coalescing a deployment gets without setting them.
      ...(options.defaults ? {} : { LEADER_LEASE_MS: String(LEASE_MS), COALESCE_MS: '20' }),
      ...options.env,
    });
    hubs.push(hub);
    return hub;
  };
  return {
    redis,
    redisCluster,
    /** REDIS_KEY_PREFIX of the hubs: a test can work out which slot (and master) a key lives on. */
    prefix,
    database,
    models: database.models,
    spawn,
    /** Every hub's warnings, errors and lease changes, for a failure message. */
    diagnostics() {
      return hubs
        .flatMap((hub) => hub.logs.filter((l) => l.level >= 40 || /lease|feed|resync/.test(l.msg)).map((l) => `${hub.name} ${String(l.time)} ${l.msg} ${String((l.err as { message?: string } | undefined)?.message ?? l.err ?? l.reason ?? '')}`.slice(0, 300)))
        .sort((a, b) => a.split(' ')[1]!.localeCompare(b.split(' ')[1]!))
        .join('\n');
    },
    async restartRedis(whileDown: () => Promise<void>) {
      const port = redis.server.port;
      await redis.server.stop();
      await whileDown();
      redis.server = await startRedisServer(port);
    },
  };
}

export const isLeader = (hub: HubProcess) => hub.waitForLog((line) => line.msg === 'leader lease acquired', 15_000);

/** Subscribe refusals a client asks again after (as the client library does, with its backoff). */
const RETRYABLE_SUBSCRIBE = new Set(['INTERNAL', 'RATE_LIMITED']);
const SUBSCRIBE_TRIES = 20;

/**
 * A client as the contract expects one to behave: it holds the newest version per key and,
 * when the hub says resync (or it reconnects), subscribes again and applies the snapshots. A
 * retryable refusal (a Redis Cluster master failing over under the snapshot read) is asked again
 * after a short backoff, as the client library does; `retried` counts them.
 */
export async function resyncingClient(url: string, channels: string[]): Promise<Received & { retried: number }> {
  const socket: HubClientSocket = await connect(url);
  const received = Object.assign(new Received(socket), { retried: 0 });
  const subscribeOne = async (channel: string) => {
    for (let attempt = 1; ; attempt += 1) {
      const ack = await subscribe(socket, { channel });
      if (ack.ok) return received.apply(ack);
      if (!RETRYABLE_SUBSCRIBE.has(ack.error.code) || attempt === SUBSCRIBE_TRIES) throw new Error(`subscribe ${channel}: ${ack.error.code}`);
      received.retried += 1;
      await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, 100 * 2 ** attempt)));
    }
  };
  const subscribeAll = async () => {
    for (const channel of channels) await subscribeOne(channel);
  };
  socket.on('resync', () => {
    subscribeAll().catch((error: Error) => {
      // A hub going away mid-resubscribe (the test's cleanup, a failover) is expected; anything else is a failure.
      if (!/disconnected/.test(error.message)) received.failures.push(error);
    });
  });
  await subscribeAll();
  return received;
}

/** The hub's port from its log, as a URL. */
export const urlOf = async (hub: HubProcess) => `http://127.0.0.1:${await hub.port()}`;

import { afterAll } from 'vitest';
import { startRedisCluster, type RedisCluster } from '../../server/src/devservices/redis-cluster.ts';
import { openRedis, type RedisClient } from '../../server/src/cluster/redis.ts';
import { whenDone } from './cleanup.ts';
import { testRedis } from './redis.ts';

/**
 * A Redis Cluster of 3 masters and 3 replicas for this test (or file, when called at file level
 * or in beforeAll), stopped when it ends; its nodes also stop when this worker dies (stdin-bound).
 */
export async function testRedisCluster(): Promise<RedisCluster> {
  const cluster = await startRedisCluster();
  whenDone(() => cluster.stop());
  return cluster;
}

let shared: Promise<RedisCluster> | undefined;
const clients: RedisClient[] = [];
// Registered at load, at file level: clients first, then the cluster they talk to.
afterAll(async () => {
  for (const client of clients.splice(0)) client.disconnect();
  if (shared) await (await shared).stop();
});

/** One cluster for the whole file, started on first use. */
export function fileRedisCluster(): Promise<RedisCluster> {
  shared ??= startRedisCluster();
  return shared;
}

/** A cluster client as the hub opens its command connection, closed after the file. */
export async function testClusterClient(): Promise<RedisClient> {
  const cluster = await fileRedisCluster();
  const client = openRedis({ cluster: cluster.nodes.map((node) => ({ host: '127.0.0.1', port: node.port })) }, 'test');
  clients.push(client);
  return client;
}

/** The two places a Redis-backed port runs: one redis-server, and a 3-master cluster. Contract suites run over both. */
export const REDIS_FLAVOURS = [
  { name: 'redis', cluster: false, connect: async (): Promise<RedisClient> => testRedis() },
  { name: 'redis cluster', cluster: true, connect: testClusterClient },
] as const;

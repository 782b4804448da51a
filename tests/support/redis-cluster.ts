import { startRedisCluster, type RedisCluster } from '../../server/src/devservices/redis-cluster.ts';
import { whenDone } from './cleanup.ts';

/**
 * A Redis Cluster of 3 masters and 3 replicas for this test (or file, when called at file level
 * or in beforeAll), stopped when it ends; its nodes also stop when this worker dies (stdin-bound).
 */
export async function testRedisCluster(): Promise<RedisCluster> {
  const cluster = await startRedisCluster();
  whenDone(() => cluster.stop());
  return cluster;
}

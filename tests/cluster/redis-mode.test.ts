import { describe, expect, inject, it } from 'vitest';
import { checkRedisMode } from '../../server/src/startup/checks.ts';
import { freePort } from '../../server/src/devservices/redis-server.ts';
import { cleanEnv, run } from '../support/processes.ts';
import { testDatabaseUri } from '../support/database.ts';
import { fileRedisCluster } from '../support/redis-cluster.ts';

const seedOf = (url: string) => {
  const { hostname, port } = new URL(url);
  return { host: hostname, port: Number(port) };
};

describe('REDIS_URL or REDIS_CLUSTER_NODES, checked against what the server is', () => {
  it('refuses REDIS_URL at a cluster node and REDIS_CLUSTER_NODES at a plain Redis, each in one line naming the variable', async () => {
    const cluster = await fileRedisCluster();
    const node = cluster.nodes[0]!.port;
    await expect(checkRedisMode({ REDIS_URL: `redis://127.0.0.1:${node}` })).rejects.toThrow(/^REDIS_URL points at a node of a Redis Cluster .*set REDIS_CLUSTER_NODES/);
    await expect(checkRedisMode({ REDIS_CLUSTER_NODES: [seedOf(inject('redisUrl'))] })).rejects.toThrow(/^REDIS_CLUSTER_NODES: 127\.0\.0\.1:\d+ is not a Redis Cluster node .*set REDIS_URL/);
    // The right variable passes.
    await checkRedisMode({ REDIS_URL: inject('redisUrl') });
    await checkRedisMode({ REDIS_CLUSTER_NODES: [{ host: '127.0.0.1', port: node }] });
  });

  it('lets a Redis that does not answer through, within its bound (the hub then starts unready)', async () => {
    const started = performance.now();
    await checkRedisMode({ REDIS_URL: `redis://127.0.0.1:${await freePort()}` }, 500);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('a hub started with REDIS_URL at a cluster node exits at once with that one line', async () => {
    const cluster = await fileRedisCluster();
    const result = await run(process.execPath, ['--import', 'tsx', 'server/src/main.ts'], {
      env: cleanEnv({ LOG_LEVEL: 'info', PORT: '0', MONGODB_URI: testDatabaseUri(), REDIS_URL: `redis://127.0.0.1:${cluster.nodes[1]!.port}` }),
      timeoutMs: 60_000,
    });
    expect(result.code).toBe(1);
    expect(result.errorLines).toEqual([expect.stringMatching(/^REDIS_URL points at a node of a Redis Cluster/)]);
    expect(result.stdout).toBe('');
  }, 90_000);
});

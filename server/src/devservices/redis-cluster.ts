import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { requireCommand } from './commands.ts';
import { spawnStdinBound, type StdinBoundChild } from './child.ts';
import { freePort } from './redis-server.ts';

export interface ClusterNode {
  port: number;
  /** The holder shell's pid (stdin-bound, so it dies with its parent); the redis-server is its child. */
  pid: number;
  /** The redis-server's own pid, for kill -9. */
  serverPid: number;
  child: StdinBoundChild;
}

export interface RedisCluster {
  /** `host:port,...` as REDIS_CLUSTER_NODES takes it. */
  seeds: string;
  nodes: ClusterNode[];
  /** Ports of the nodes that are masters now. */
  masters(): Promise<number[]>;
  /** A slot of a live master that has a live replica and does not serve `avoid` (so a test can kill another master than the one it watches). */
  slotOfAnotherMaster(avoid: number): Promise<number>;
  /**
   * Kills the master serving `slot` with SIGKILL and waits until one of its replicas serves the
   * slot and every live node says cluster_state:ok; returns the old and new master ports and the
   * milliseconds from the kill until then.
   */
  killMasterOf(slot: number, timeoutMs?: number): Promise<{ killed: number; promoted: number; ms: number }>;
  stop(): Promise<void>;
}

// As redis-server.ts: a shell holds the server and stops it when stdin closes (or the parent dies).
// It prints the server's pid first, so a test can kill -9 the server itself.
const HOLDER = 'redis-server "$@" & pid=$!; echo "server-pid $pid"; cat >/dev/null; kill $pid 2>/dev/null; wait $pid';

async function startNode(dir: string, port: number): Promise<ClusterNode> {
  const { child, match } = await spawnStdinBound({
    name: `redis-server (cluster node ${port})`,
    command: 'sh',
    cwd: dir,
    args: [
      '-c',
      HOLDER,
      'redis-cluster-holder',
      '--port', String(port),
      '--bind', '127.0.0.1',
      '--cluster-enabled', 'yes',
      '--cluster-config-file', `nodes-${port}.conf`,
      // Short enough that a killed master's replica takes over within a few seconds.
      '--cluster-node-timeout', '1000',
      // As docs/deployment.md recommends: a failed master stops only its own slots, not the whole
      // cluster, while its replica takes over (the default refuses every command meanwhile).
      '--cluster-require-full-coverage', 'no',
      // A replica that never finished its first sync refuses to take over; start that sync at once.
      '--repl-diskless-sync-delay', '0',
      '--save', '',
      '--appendonly', 'no',
      '--daemonize', 'no',
      '--loglevel', 'warning',
    ],
    ready: /server-pid (\d+)/,
    readyTimeoutMs: 15_000,
  });
  return { port, pid: child.pid, serverPid: Number(match[1]), child };
}

async function info(port: number, command: string[]): Promise<string> {
  const redis = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return String(await redis.call(command[0]!, ...command.slice(1)));
  } finally {
    redis.disconnect();
  }
}

async function waitFor(description: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`redis cluster: timed out waiting for ${description}`);
    // Polling a process we do not control: there is no event to wait on.
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const stateOk = async (port: number) => /cluster_state:ok/.test(await info(port, ['CLUSTER', 'INFO']));

/** Lines of CLUSTER NODES from `port`: id, address, flags, and slot ranges. */
async function clusterNodes(port: number): Promise<{ port: number; flags: string[]; slots: [number, number][] }[]> {
  const text = await info(port, ['CLUSTER', 'NODES']);
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [, address, flags, , , , , , ...slots] = line.split(' ');
      return {
        port: Number(address!.split('@')[0]!.split(':')[1]),
        flags: flags!.split(','),
        slots: slots.filter((s) => /^\d/.test(s)).map((s) => s.split('-').map(Number) as [number, number]).map(([a, b]) => [a, b ?? a] as [number, number]),
      };
    });
}

/**
 * A throwaway Redis Cluster of 3 masters and 3 replicas on free loopback ports, created with
 * `redis-cli --cluster create --cluster-replicas 1`; resolves once every node says cluster_state:ok.
 */
export async function startRedisCluster(): Promise<RedisCluster> {
  requireCommand('redis-server', '--version', 'install Redis 7 (apt-get install -y redis-server)');
  requireCommand('redis-cli', '--version', 'install Redis 7 (apt-get install -y redis-tools)');
  const dir = await mkdtemp(join(tmpdir(), 'slotcast-cluster-'));
  const ports: number[] = [];
  while (ports.length < 6) {
    const port = await freePort();
    // A cluster node also listens on port + 10000 (the bus); keep both free and distinct.
    if (port + 10_000 < 65_536 && !ports.includes(port)) ports.push(port);
  }
  const nodes: ClusterNode[] = [];
  const stop = async () => {
    await Promise.all(nodes.map((node) => node.child.stop()));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    nodes.push(...(await Promise.all(ports.map((port) => startNode(dir, port)))));
    await waitFor('every node to answer', async () => (await Promise.all(ports.map((port) => info(port, ['PING'])))).every((reply) => reply === 'PONG'), 15_000);
    const { spawnSync } = await import('node:child_process');
    const created = spawnSync('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '1', '--cluster-yes'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stdout}\n${created.stderr}`);
    await waitFor('cluster_state:ok on every node', async () => (await Promise.all(ports.map(stateOk))).every(Boolean), 30_000);
    // Replicas must know their masters before a failover can be asked of them.
    await waitFor('3 masters and 3 replicas', async () => {
      const seen = await clusterNodes(ports[0]!);
      return seen.filter((n) => n.flags.includes('master')).length === 3 && seen.filter((n) => n.flags.includes('slave')).length === 3;
    }, 30_000);
    await waitFor('every replica in sync with its master', async () => {
      const replicas = (await clusterNodes(ports[0]!)).filter((n) => n.flags.includes('slave')).map((n) => n.port);
      const links = await Promise.all(replicas.map((port) => info(port, ['INFO', 'replication'])));
      return links.every((text) => /master_link_status:up/.test(text));
    }, 30_000);
  } catch (error) {
    await stop();
    throw error;
  }

  const live = () => nodes.filter((node) => node.child.process.exitCode === null && !killedPorts.has(node.port));
  const killedPorts = new Set<number>();
  const ownerOf = async (from: number, slot: number) => {
    const seen = await clusterNodes(from);
    return seen.find((n) => n.flags.includes('master') && !n.flags.includes('fail') && n.slots.some(([a, b]) => slot >= a && slot <= b))?.port;
  };
  return {
    seeds: ports.map((port) => `127.0.0.1:${port}`).join(','),
    nodes,
    async masters() {
      const seen = await clusterNodes(live()[0]!.port);
      return seen.filter((n) => n.flags.includes('master') && !n.flags.includes('fail')).map((n) => n.port);
    },
    async slotOfAnotherMaster(avoid) {
      const seen = await clusterNodes(live()[0]!.port);
      const ids = await info(live()[0]!.port, ['CLUSTER', 'NODES']);
      const idOf = new Map(ids.trim().split('\n').map((line) => [Number(line.split(' ')[1]!.split('@')[0]!.split(':')[1]), line.split(' ')[0]!]));
      const masterOf = new Map(ids.trim().split('\n').map((line) => [line.split(' ')[0]!, line.split(' ')[3]!]));
      const candidate = seen.find((node) => {
        if (!node.flags.includes('master') || node.flags.includes('fail') || node.slots.some(([a, b]) => avoid >= a && avoid <= b)) return false;
        const id = idOf.get(node.port);
        return seen.some((other) => other.flags.includes('slave') && !other.flags.includes('fail') && masterOf.get(idOf.get(other.port)!) === id);
      });
      if (!candidate) throw new Error(`no other master with a replica than the one serving slot ${avoid}`);
      return candidate.slots[0]![0];
    },
    async killMasterOf(slot, timeoutMs = 30_000) {
      const killed = await ownerOf(live()[0]!.port, slot);
      const node = nodes.find((n) => n.port === killed);
      if (!node) throw new Error(`no master serves slot ${slot}`);
      const started = performance.now();
      process.kill(node.serverPid, 'SIGKILL');
      killedPorts.add(node.port);
      let promoted: number | undefined;
      await waitFor(`a replica to take over slot ${slot} from ${killed}`, async () => {
        const survivors = live();
        promoted = await ownerOf(survivors[0]!.port, slot);
        if (promoted === undefined || promoted === killed) return false;
        return (await Promise.all(survivors.map((n) => stateOk(n.port)))).every(Boolean);
      }, timeoutMs);
      return { killed: killed!, promoted: promoted!, ms: Math.round(performance.now() - started) };
    },
    stop,
  };
}

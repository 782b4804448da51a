import { createServer } from 'node:net';
import { requireCommand } from './commands.ts';
import { spawnStdinBound } from './child.ts';

export interface RedisServer {
  url: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

// redis-server has no "exit with my parent" switch, so a shell holds it and stops it when stdin closes.
const HOLDER = 'redis-server "$@" & pid=$!; cat >/dev/null; kill $pid 2>/dev/null; wait $pid';

/** Starts a throwaway redis-server on loopback (no persistence); pass a port to restart one in place. */
export async function startRedisServer(port?: number): Promise<RedisServer> {
  requireCommand('redis-server', '--version', 'install Redis (apt-get install -y redis-server), or set REDIS_URL');
  const chosen = port ?? (await freePort());
  const { child } = await spawnStdinBound({
    name: 'redis-server',
    command: 'sh',
    args: [
      '-c',
      HOLDER,
      'redis-holder',
      '--port', String(chosen),
      '--bind', '127.0.0.1',
      '--save', '',
      '--appendonly', 'no',
      '--daemonize', 'no',
      '--loglevel', 'notice',
    ],
    ready: /Ready to accept connections/,
    readyTimeoutMs: 15_000,
  });
  return { url: `redis://127.0.0.1:${chosen}`, port: chosen, pid: child.pid, stop: () => child.stop() };
}

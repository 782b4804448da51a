import { existsSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { requireCommand } from './commands.ts';
import { spawnStdinBound } from './child.ts';

/** tests/wire-server: the Maven project and single-file launcher of mongo-java-server. */
export const WIRE_SERVER_DIR = fileURLToPath(new URL('../../../tests/wire-server/', import.meta.url));
const LIB_DIR = `${WIRE_SERVER_DIR}target/lib`;

function jarsPresent(): boolean {
  return existsSync(LIB_DIR) && readdirSync(LIB_DIR).some((file) => file.startsWith('mongo-java-server-memory-backend'));
}

/** Downloads mongo-java-server's jars once; later calls find them in target/lib (and Maven's own cache). */
export function ensureWireServerJars(): void {
  requireCommand('java', '-version', 'install a JDK 17 or newer (apt-get install -y default-jdk-headless), or set MONGODB_URI');
  if (jarsPresent()) return;
  requireCommand('mvn', '-v', 'install Maven (apt-get install -y maven), or set MONGODB_URI');
  const result = spawnSync('mvn', ['-q', '-B', 'dependency:copy-dependencies', '-DoutputDirectory=target/lib'], {
    cwd: WIRE_SERVER_DIR,
    encoding: 'utf8',
  });
  if (result.status !== 0 || !jarsPresent()) {
    throw new Error(`could not fetch mongo-java-server with Maven:\n${result.stdout}${result.stderr}`);
  }
}

export interface WireServer {
  uri: string;
  pid: number;
  stop(): Promise<void>;
}

/** Starts mongo-java-server (oplog on, reporting MongoDB 6.0) on a free loopback port. */
export async function startWireServer(port = 0): Promise<WireServer> {
  ensureWireServerJars();
  const { child, match } = await spawnStdinBound({
    name: 'mongo-java-server',
    command: 'java',
    args: ['-XX:+UseSerialGC', '-Xss512k', '-cp', `${LIB_DIR}/*`, 'WireServer.java', String(port), '127.0.0.1'],
    cwd: WIRE_SERVER_DIR,
    ready: /^READY (\S+)$/,
    readyTimeoutMs: 60_000,
  });
  return { uri: `mongodb://${match[1]}`, pid: child.pid, stop: () => child.stop() };
}

import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface HubProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  readonly logs: LogLine[];
  readonly stderr: string[];
  /** Resolves with the first log line (past or future) that matches. */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Resolves with the exit code (or signal name) when the process ends. */
  readonly exited: Promise<number | string>;
  /** Port from the "listening" log line. */
  port(): Promise<number>;
  /** Sends `signal` (SIGTERM by default) and waits for the exit; SIGKILL if it takes longer than `timeoutMs`. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | string>;
}

/**
 * Runs `server/src/main.ts` as its own process, as `npm start` does, for tests and benchmarks.
 * The hub also stops when this process goes away (its stdin closes), even if no cleanup ran.
 */
export function spawnHub(env: Record<string, string>, options: { name?: string; onLog?: (line: LogLine) => void } = {}): HubProcess {
  const name = options.name ?? env.INSTANCE_ID ?? 'hub';
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts'], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'info', EXIT_ON_STDIN_CLOSE: 'true', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const logs: LogLine[] = [];
  const stderr: string[] = [];
  const waiters = new Set<(line: LogLine) => void>();
  createInterface({ input: child.stdout! }).on('line', (raw) => {
    let line: LogLine;
    try {
      line = JSON.parse(raw) as LogLine;
    } catch {
      stderr.push(`stdout: ${raw}`);
      return;
    }
    logs.push(line);
    options.onLog?.(line);
    for (const waiter of waiters) waiter(line);
  });
  createInterface({ input: child.stderr! }).on('line', (raw) => stderr.push(raw));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));

  const waitForLog = (match: (line: LogLine) => boolean, timeoutMs = 60_000) =>
    new Promise<LogLine>((resolve, reject) => {
      const seen = logs.find(match);
      if (seen) return resolve(seen);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      const check = (line: LogLine) => {
        if (!match(line)) return;
        done();
        resolve(line);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${name}: log line not seen in ${timeoutMs} ms; stderr:\n${stderr.join('\n')}`));
      }, timeoutMs);
      waiters.add(check);
      void exited.then((code) => {
        done();
        reject(new Error(`${name} exited (${code}) before the log line; stderr:\n${stderr.join('\n')}`));
      });
    });

  return {
    name,
    child,
    pid: child.pid!,
    logs,
    stderr,
    waitForLog,
    exited,
    async port() {
      const line = await waitForLog((l) => typeof l.port === 'number' && l.msg.startsWith('slotcast is listening'));
      return line.port as number;
    },
    async stop(signal = 'SIGTERM', timeoutMs = 20_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Whether a process with this pid exists (signal 0 checks without sending anything). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ESRCH') return false;
    if (code === 'EPERM') return true;
    throw error;
  }
}

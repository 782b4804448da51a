/** Child processes of bench:fanout (hubs, baseline servers, clients) and what /proc says about them. */
import { fork, type ChildProcess } from 'node:child_process';
import { spawnHub as spawnHubProcess, type HubProcess } from '../../tests/support/hub-process.ts';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export { type HubProcess, type LogLine } from '../../tests/support/hub-process.ts';

const exitOf = (child: ChildProcess) =>
  new Promise<number | string>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode ?? child.signalCode!);
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
  });

/** A hub process for the benchmark; its errors are echoed with its name. */
export function spawnHub(name: string, env: Record<string, string>): HubProcess {
  return spawnHubProcess(env, {
    name,
    onLog: (line) => {
      if (line.level >= Number(process.env.BENCH_ECHO_LEVEL || 50)) console.error(`  ${name}: ${line.msg}`);
    },
  });
}

/** A forked TypeScript child with an IPC channel; messages are typed by the caller. */
export interface Forked<In, Out> {
  readonly child: ChildProcess;
  readonly pid: number;
  send(message: In): void;
  /** The next message that matches, or a rejection after `timeoutMs` or when the child exits. */
  next<T extends Out>(match: (message: Out) => message is T, timeoutMs?: number): Promise<T>;
  on(listener: (message: Out) => void): () => void;
  /** Sends `bye` (if given), waits for the exit, SIGKILL after `timeoutMs`. */
  stop(bye?: In, timeoutMs?: number): Promise<number | string>;
}

export function forkChild<In, Out>(script: string, options: { env?: Record<string, string>; execArgv?: string[] } = {}): Forked<In, Out> {
  const child = fork(fileURLToPath(new URL(script, import.meta.url)), [], {
    cwd: REPO_ROOT,
    execArgv: ['--import', 'tsx', ...(options.execArgv ?? [])],
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = exitOf(child);
  const listeners = new Set<(message: Out) => void>();
  child.on('message', (message) => {
    for (const listener of listeners) listener(message as Out);
  });
  const on = (listener: (message: Out) => void) => {
    listeners.add(listener);
    return () => listeners.delete(listener);
  };
  return {
    child,
    pid: child.pid!,
    send(message) {
      if (child.connected) child.send(message as object);
    },
    on,
    next<T extends Out>(match: (message: Out) => message is T, timeoutMs = 120_000) {
      return new Promise<T>((resolve, reject) => {
        const off = on((message) => {
          if (!match(message)) return;
          clearTimeout(timer);
          off();
          resolve(message);
        });
        const timer = setTimeout(() => {
          off();
          reject(new Error(`${script}: no answer in ${timeoutMs} ms`));
        }, timeoutMs);
        void exited.then((code) => {
          clearTimeout(timer);
          off();
          reject(new Error(`${script} exited (${code})`));
        });
      });
    },
    async stop(bye, timeoutMs = 10_000) {
      if (child.exitCode === null && child.signalCode === null) {
        if (bye !== undefined && child.connected) child.send(bye as object);
        else if (child.connected) child.disconnect();
        else child.kill('SIGTERM');
      }
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Resident set size in KiB (VmRSS), or NaN when the process is gone. */
export function rssKiB(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) a process has used so far, or NaN when it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at ") ".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

/** The direct children of a process (e.g. the redis-server under its shell holder). */
export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** The whole machine's CPU time so far, in seconds summed over all cores (from /proc/stat). */
export function machineCpu(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  // cpu user nice system idle iowait irq softirq steal guest guest_nice
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).slice(1).map(Number);
  const busy = user + nice + system + irq + softirq + steal;
  return { busy: busy / TICKS_PER_SECOND, total: (busy + idle + iowait) / TICKS_PER_SECOND };
}

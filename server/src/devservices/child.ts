import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * A helper process that lives exactly as long as its standard input stays open: closing it is
 * how the process is stopped, and a parent that dies closes it too, so nothing is left behind.
 */
export interface StdinBoundChild {
  readonly process: ChildProcess;
  readonly pid: number;
  /** Closes standard input and waits for the exit; SIGKILL if it has not exited in time. */
  stop(timeoutMs?: number): Promise<void>;
}

export interface SpawnOptions {
  command: string;
  args: string[];
  cwd?: string;
  /** A line on stdout that means the process is ready; its match is returned. */
  ready: RegExp;
  readyTimeoutMs: number;
  name: string;
}

export async function spawnStdinBound(options: SpawnOptions): Promise<{ child: StdinBoundChild; match: RegExpMatchArray }> {
  const proc = spawn(options.command, options.args, {
    cwd: options.cwd,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const output: string[] = [];
  const remember = (line: string) => {
    output.push(line);
    if (output.length > 40) output.shift();
  };
  createInterface({ input: proc.stderr! }).on('line', remember);
  // A child that already died makes closing its stdin fail with EPIPE; its exit is what matters.
  proc.stdin!.on('error', (error) => remember(`stdin: ${error.message}`));
  const lines = createInterface({ input: proc.stdout! });

  const match = await new Promise<RegExpMatchArray>((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      proc.kill('SIGKILL');
      reject(new Error(`${options.name} ${why}${output.length ? `:\n${output.join('\n')}` : ''}`));
    };
    const onError = (error: Error) => fail(`could not start (${error.message})`);
    const onEarlyExit = (code: number | null, signal: string | null) =>
      fail(`exited before it was ready (code ${code}, signal ${signal})`);
    const timer = setTimeout(() => fail(`was not ready within ${options.readyTimeoutMs} ms`), options.readyTimeoutMs);
    proc.once('error', onError);
    proc.once('exit', onEarlyExit);
    lines.on('line', (line) => {
      remember(line);
      const found = options.ready.exec(line);
      if (found) {
        clearTimeout(timer);
        proc.off('error', onError);
        proc.off('exit', onEarlyExit);
        resolve(found);
      }
    });
  });

  const child: StdinBoundChild = {
    process: proc,
    pid: proc.pid!,
    async stop(timeoutMs = 10_000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.stdin!.end();
      const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
  return { child, match };
}

import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { whenDone } from '../support/cleanup.ts';
import { testDatabaseUri } from '../support/database.ts';
import { waitFor } from '../support/events.ts';
import { cleanEnv, commandLine, descendants, processGone, ROOT } from '../support/processes.ts';

/** Everything `npm start` runs must be gone this long after its signal (measured: about 0.3-2.5 s on a busy machine). */
const GONE_WITHIN_MS = 10_000;

interface NpmStart {
  child: ChildProcess;
  lines: string[];
  /** Processes seen under npm, with their command lines: what cleanup may kill, even after npm is gone. */
  seen: Map<number, string>;
  /** Resolves with the first line, past or future, that contains `text`. */
  line(text: string, timeoutMs?: number): Promise<string>;
}

/** `npm start` as a user or a process manager runs it; `group` puts it in a process group of its own, as a terminal does. */
function npmStart(env: Record<string, string>, options: { group?: boolean } = {}): NpmStart {
  const child = spawn('npm', ['start'], {
    cwd: ROOT,
    env: cleanEnv({ PORT: '0', LOG_LEVEL: 'info', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.group ?? false,
  });
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  const take = (line: string) => {
    lines.push(line);
    for (const waiter of waiters) waiter();
  };
  createInterface({ input: child.stdout! }).on('line', take);
  createInterface({ input: child.stderr! }).on('line', take);
  const seen = new Map<number, string>([[child.pid!, 'npm start']]);
  // Whatever a failed test leaves running is killed by its pid, and only while that pid still runs the same command.
  whenDone(() => {
    for (const pid of descendants(child.pid!)) seen.set(pid, commandLine(pid));
    for (const [pid, command] of seen) {
      if (!processGone(pid) && (pid === child.pid || commandLine(pid) === command)) process.kill(pid, 'SIGKILL');
    }
  });
  const line = (text: string, timeoutMs = 60_000) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const found = lines.find((candidate) => candidate.includes(text));
        if (found === undefined) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve(found);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`npm start: "${text}" not seen in ${timeoutMs} ms; output:\n${lines.join('\n')}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  return { child, lines, seen, line };
}

/** The processes under npm, with the hub and (when embedded) the database among them. */
function tree(npm: NpmStart, expectJava: boolean): { all: number[]; hub: number } {
  const all = descendants(npm.child.pid!);
  for (const pid of all) npm.seen.set(pid, commandLine(pid));
  const hub = all.find((pid) => commandLine(pid).includes('server/src/main.ts'));
  expect(hub, `the hub among ${all.map(commandLine).join(' | ')}`).toBeDefined();
  expect(all.some((pid) => commandLine(pid).includes('WireServer.java'))).toBe(expectJava);
  return { all: [npm.child.pid!, ...all], hub: hub! };
}

async function allGone(pids: number[]): Promise<number> {
  const started = performance.now();
  await waitFor(`every process of npm start to exit (${pids.join(', ')})`, () => pids.every(processGone) || undefined, { timeoutMs: GONE_WITHIN_MS, intervalMs: 50 });
  return Math.round(performance.now() - started);
}

describe('npm start stops with its parent', () => {
  it('SIGTERM to npm (what process managers send) reaches the hub: it stops in order, and the database and esbuild go too', async () => {
    const npm = npmStart({ SEED_DEMO: 'false' });
    await npm.line('slotcast is listening');
    const { all } = tree(npm, true);

    npm.child.kill('SIGTERM');
    const ms = await allGone(all);
    console.log(`npm start, SIGTERM to npm: ${all.length} processes gone in ${ms} ms`);
    expect(npm.lines.some((line) => line.includes('"reason":"SIGTERM"') && line.includes('shutting down'))).toBe(true);
    await npm.line('"msg":"stopped"', 1_000);
  }, 90_000);

  it('SIGKILL to npm (nothing passed on): the hub notices its parent went and stops', async () => {
    const npm = npmStart({ MONGODB_URI: testDatabaseUri() });
    await npm.line('slotcast is listening');
    const { all, hub } = tree(npm, false);

    npm.child.kill('SIGKILL');
    const ms = await allGone(all);
    console.log(`npm start, SIGKILL to npm: hub ${hub} and ${all.length - 1} more gone in ${ms} ms`);
    await npm.line('its parent (npm start) exited', 1_000);
  }, 90_000);

  it('Ctrl-C (SIGINT to the whole process group, twice for the hub) stops it in order', async () => {
    const npm = npmStart({ SEED_DEMO: 'false' }, { group: true });
    await npm.line('slotcast is listening');
    const { all } = tree(npm, true);

    process.kill(-npm.child.pid!, 'SIGINT');
    const ms = await allGone(all);
    console.log(`npm start, SIGINT to its group: ${all.length} processes gone in ${ms} ms`);
    await npm.line('"msg":"stopped"', 1_000);
  }, 90_000);
});

import { readFileSync, readdirSync } from 'node:fs';

/** The scheduler states of every thread of `pid` (Linux /proc): "T" is stopped. */
function threadStates(pid: number): string[] {
  return readdirSync(`/proc/${pid}/task`).flatMap((task) => {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${task}/stat`, 'utf8');
    } catch (error) {
      // A thread that ended between the listing and the read has no state to wait for.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    // The state follows the command name, which is in parentheses and may itself hold spaces.
    return [stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)];
  });
}

/** Reads the threads' states until `done` holds (a signal is delivered asynchronously); throws after 5 s. */
function untilThreads(pid: number, done: (states: string[]) => boolean, what: string): void {
  const deadline = performance.now() + 5_000;
  while (!done(threadStates(pid))) {
    if (performance.now() > deadline) throw new Error(`process ${pid} did not ${what} within 5 s: ${threadStates(pid).join('')}`);
  }
}

/**
 * Freezes a process (as a hung or paused MongoDB) with SIGSTOP and returns once every one of its
 * threads is stopped, so nothing sent afterwards gets an answer; `thaw` undoes it.
 */
export function freezeProcess(pid: number): () => void {
  process.kill(pid, 'SIGSTOP');
  untilThreads(pid, (states) => states.every((state) => state === 'T'), 'stop');
  let thawed = false;
  return () => {
    if (thawed) return;
    thawed = true;
    process.kill(pid, 'SIGCONT');
    untilThreads(pid, (states) => states.every((state) => state !== 'T'), 'continue');
  };
}

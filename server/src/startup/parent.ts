/** How often the parent is looked at: a getppid call, so cheap; the hub goes within about this long. */
const PARENT_CHECK_MS = 1_000;

/**
 * Calls `onGone` once when this process's parent exits (its pid changes as it is re-parented).
 * For `npm start`: npm passes SIGTERM and SIGINT on, but a SIGKILLed npm passes nothing, and the
 * hub must not outlive it. Not for hubs started by hand or by a supervisor, which may outlive a shell.
 */
export function onParentExit(onGone: () => void): () => void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    onGone();
  }, PARENT_CHECK_MS);
  // The check alone must not keep a hub that has stopped alive.
  timer.unref();
  return () => clearInterval(timer);
}

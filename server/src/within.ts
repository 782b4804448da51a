/**
 * Waits for `promise` at most `ms`: `{ settled: true, value }` when it resolved in time,
 * `{ settled: false }` when it had not (it keeps running; whatever it does later is the caller's
 * to make harmless). A rejection in time is passed on. This is how shutdown and health checks stay
 * bounded when MongoDB stops answering: the operations themselves cannot be cancelled.
 */
export async function within<T>(promise: Promise<T>, ms: number): Promise<{ settled: true; value: T } | { settled: false }> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<{ settled: false }>((resolve) => {
    timer = setTimeout(() => resolve({ settled: false }), ms);
  });
  try {
    return await Promise.race([promise.then((value) => ({ settled: true as const, value })), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** A delay that `cancel()` ends at once (so a pending retry never holds up a shutdown). */
export function cancellableDelay(ms: number): { done: Promise<void>; cancel: () => void } {
  let cancel = () => undefined as void;
  const done = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    cancel = () => {
      clearTimeout(timer);
      resolve();
    };
  });
  return { done, cancel };
}

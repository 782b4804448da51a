import { loadavg } from 'node:os';
import { startDevServices, type DevServices } from '../server/src/devservices/services.ts';

/**
 * What a benchmark started, stopped in reverse order on success, failure, SIGINT or SIGTERM;
 * `abort` tells loops to stop early when interrupted.
 */
export function cleanupRegistry(name: string) {
  const abort = new AbortController();
  const steps: (() => Promise<unknown>)[] = [];
  let cleaning: Promise<void> | undefined;
  const cleanup = (): Promise<void> =>
    (cleaning ??= (async () => {
      for (const stop of steps.reverse()) {
        await stop().catch((error: unknown) => console.error(`${name}: cleanup step failed:`, error));
      }
    })());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`\n${name}: ${signal}, stopping what it started…`);
      abort.abort();
      void cleanup().finally(() => process.exit(130));
    });
  }
  return { abort, cleanup, onCleanup: (stop: () => Promise<unknown>) => void steps.push(stop) };
}

/** The start every benchmark shares: a timed log, and MongoDB + Redis (stopped by `onCleanup`). */
export async function startBench(onCleanup: (stop: () => Promise<unknown>) => void) {
  const started = Date.now();
  const loadBefore = loadavg()[0]!;
  const log = (message: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${message}`);
  log('starting MongoDB and Redis…');
  const services: DevServices = await startDevServices({ redis: true });
  onCleanup(() => services.stop());
  if (!services.redisUrl) throw new Error('no Redis URL from startDevServices');
  return { started, loadBefore, log, services, redisUrl: services.redisUrl };
}

import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';

export interface LoadSpec {
  host: string;
  port: number;
  /** Request paths, used round-robin (each loop starts at its own offset). */
  paths: string[];
  /** Requests in flight: one loop per request, each on its own keep-alive socket. */
  concurrency: number;
  warmupMs: number;
  durationMs: number;
}

export interface LoadResult {
  /** HTTP 200 answers completed inside the measured window. */
  ok: number;
  /** Failed requests and non-200 answers, warm-up included. */
  errors: number;
  errorSamples: string[];
  started: number;
  /** false when requests were still open DRAIN_LIMIT_MS after the window and were abandoned. */
  drained: boolean;
  /** Keep-alive sockets open when the clock started (opened beforehand with GET /healthz). */
  sockets: number;
  /** Event-loop utilisation (0-1) of the load generator's thread over the measured window. */
  clientBusy: number;
  /** The same for this (the hub's) thread. */
  serverBusy: number;
  windowSeconds: number;
  latenciesMs: Float64Array;
}

export interface CaseStats {
  requests: number;
  errors: number;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  clientBusy: number;
  serverBusy: number;
}

const WORKER_URL = new URL('./load-worker.ts', import.meta.url).href;
// Workers do not inherit tsx's loader from `--import tsx` on Node 20, so the worker registers it first.
const BOOT = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(WORKER_URL)}); })`;

/** Runs one load case in a worker thread; aborting the signal terminates it. */
export function runLoad(spec: LoadSpec, signal?: AbortSignal): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(BOOT, { eval: true, workerData: spec });
    const onAbort = () => void worker.terminate();
    signal?.addEventListener('abort', onAbort, { once: true });
    // This thread runs the hub: its event-loop utilisation over the window says whether the server was saturated.
    let windowStart: ReturnType<typeof performance.eventLoopUtilization> | undefined;
    let serverBusy = Number.NaN;
    const timers: NodeJS.Timeout[] = [];
    let result: LoadResult | undefined;
    worker.on('message', (message: WorkerMessage) => {
      if (message.type === 'start') {
        // The worker's clock starts here, after it has loaded: the window is timed from the same moment.
        timers.push(
          setTimeout(() => (windowStart = performance.eventLoopUtilization()), spec.warmupMs),
          setTimeout(() => (serverBusy = performance.eventLoopUtilization(windowStart).utilization), spec.warmupMs + spec.durationMs),
        );
        return;
      }
      if (Number.isNaN(serverBusy) && windowStart) serverBusy = performance.eventLoopUtilization(windowStart).utilization;
      result = { ...message.result, serverBusy };
      // Requests abandoned after the drain limit would keep the thread alive.
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      signal?.removeEventListener('abort', onAbort);
      for (const timer of timers) clearTimeout(timer);
      if (result) resolve(result);
      else reject(new Error(signal?.aborted ? 'load run aborted' : `load worker exited with code ${code} and no result`));
    });
  });
}

export type WorkerMessage = { type: 'start' } | { type: 'result'; result: Omit<LoadResult, 'serverBusy'> };

/** Nearest-rank percentile of ascending samples. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function statsOf(result: LoadResult): CaseStats {
  const sorted = result.latenciesMs.slice().sort();
  return {
    requests: result.ok,
    errors: result.errors,
    rps: result.ok / result.windowSeconds,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1]! : Number.NaN,
    clientBusy: result.clientBusy,
    serverBusy: result.serverBusy,
  };
}

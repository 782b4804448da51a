/**
 * Runs in a worker thread (see load.ts): `concurrency` loops, each keeping one GET in flight on a
 * keep-alive agent, so the load generator never shares an event loop with the hub it measures.
 * Bodies are drained, not parsed: parsing JSON here would cost client CPU, not server time.
 */
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import type { LoadResult, LoadSpec, WorkerMessage } from './load.ts';

/** How long requests still open at the end of the window may take before they are abandoned. */
const DRAIN_LIMIT_MS = 15_000;

const spec = workerData as LoadSpec;
const agent = new Agent({ keepAlive: true, maxSockets: spec.concurrency, maxFreeSockets: spec.concurrency });

function get(path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: spec.host, port: spec.port, path, method: 'GET', agent }, (res) => {
      res.on('error', reject);
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.resume();
    });
    req.on('error', reject);
    req.end();
  });
}

const ms = (ns: bigint) => Number(ns) / 1e6;

let latencies = new Float64Array(1 << 16);
let ok = 0;
let errors = 0;
let started = 0;
const errorSamples: string[] = [];

function record(latencyMs: number): void {
  if (ok === latencies.length) {
    const grown = new Float64Array(latencies.length * 2);
    grown.set(latencies);
    latencies = grown;
  }
  latencies[ok++] = latencyMs;
}

function fail(why: string): void {
  errors += 1;
  if (errorSamples.length < 5) errorSamples.push(why);
}

// Open every connection before the clock starts, with a request the hub answers without work: opened
// during the run, the last of 200 new sockets waited seconds for their first answer behind the busy ones.
const opened = await Promise.allSettled(Array.from({ length: spec.concurrency }, () => get('/healthz')));
const openFailures = opened.filter((o) => o.status === 'rejected' || o.value !== 200).length;
if (openFailures > 0) fail(`/healthz: ${openFailures} of ${spec.concurrency} connections failed to open`);
const sockets = Object.values(agent.freeSockets).reduce((sum, list) => sum + (list?.length ?? 0), 0);

parentPort!.postMessage({ type: 'start' } satisfies WorkerMessage);
const begin = process.hrtime.bigint();
const measureFrom = begin + BigInt(spec.warmupMs) * 1_000_000n;
const stopAt = measureFrom + BigInt(spec.durationMs) * 1_000_000n;

async function loop(worker: number): Promise<void> {
  // Each loop walks the path list from its own offset, so all paths are in flight at once.
  for (let n = worker; process.hrtime.bigint() < stopAt; n += 1) {
    const path = spec.paths[n % spec.paths.length]!;
    started += 1;
    const t0 = process.hrtime.bigint();
    let status = 0;
    let error: string | undefined;
    try {
      status = await get(path);
    } catch (caught) {
      error = caught instanceof Error ? caught.message : String(caught);
    }
    const t1 = process.hrtime.bigint();
    // Errors count over the whole case, warm-up included; latencies only inside the window.
    if (t1 > stopAt) continue;
    if (error !== undefined) fail(`${path}: ${error}`);
    else if (status !== 200) fail(`${path}: HTTP ${status}`);
    else if (t1 >= measureFrom) record(ms(t1 - t0));
  }
}

// This thread's event-loop utilisation over the measured window: near 1 means the generator itself is the limit.
let windowStart: ReturnType<typeof performance.eventLoopUtilization> | undefined;
let clientBusy = Number.NaN;
setTimeout(() => (windowStart = performance.eventLoopUtilization()), spec.warmupMs);
setTimeout(() => (clientBusy = performance.eventLoopUtilization(windowStart).utilization), spec.warmupMs + spec.durationMs);

const loops = Promise.all(Array.from({ length: spec.concurrency }, (_, i) => loop(i)));
let drained = true;
await Promise.race([
  loops,
  new Promise<void>((resolve) => {
    const wait = Number(stopAt - process.hrtime.bigint()) / 1e6 + DRAIN_LIMIT_MS;
    setTimeout(() => {
      drained = false;
      resolve();
    }, wait).unref();
  }),
]);
agent.destroy();
// With one loop the window can close before the timer above fires.
if (Number.isNaN(clientBusy) && windowStart) clientBusy = performance.eventLoopUtilization(windowStart).utilization;

const samples = latencies.slice(0, ok);
const result: Omit<LoadResult, 'serverBusy'> = {
  ok,
  errors,
  errorSamples,
  started,
  drained,
  clientBusy,
  sockets,
  windowSeconds: spec.durationMs / 1000,
  latenciesMs: samples,
};
parentPort!.postMessage({ type: 'result', result } satisfies WorkerMessage, [samples.buffer]);

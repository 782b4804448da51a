/**
 * Runs in a worker thread (see bench/holds.ts): `concurrency` callers, each with its own JWT and
 * keep-alive socket, each keeping one holds.create (quantity 1) in flight against its hub, for
 * the warm-up and the measured window, then waiting for its last call. A plain tRPC POST, so the
 * load generator spends as little CPU as it can; answers are parsed only when they are refusals.
 */
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';

export interface CallersSpec {
  targets: { host: string; port: number }[];
  /** One bearer token per caller; caller i calls targets[i % targets.length]. */
  tokens: string[];
  keys: { sessionId: string; date: string }[];
  warmupMs: number;
  durationMs: number;
}

export interface CallersResult {
  /** Admissions per key index, over the whole run (warm-up and tail included): what MongoDB must hold. */
  admittedPerKey: number[];
  /** Answers completed inside the measured window. */
  measured: { admitted: number; refused: number; errors: number; windowMs: number };
  refusalSamples: string[];
  latenciesMs: number[];
}

export type CallersMessage = { type: 'measuring' } | { type: 'ended' } | { type: 'done'; result: CallersResult };

const spec = workerData as CallersSpec;
const agents = spec.targets.map(() => new Agent({ keepAlive: true, maxSockets: spec.tokens.length, maxFreeSockets: spec.tokens.length }));

function create(caller: number, key: { sessionId: string; date: string }): Promise<{ status: number; body: string }> {
  const target = caller % spec.targets.length;
  const payload = JSON.stringify({ ...key, quantity: 1 });
  return new Promise((resolve, reject) => {
    const req = request(
      {
        ...spec.targets[target]!,
        path: '/trpc/holds.create',
        method: 'POST',
        agent: agents[target],
        headers: { authorization: `Bearer ${spec.tokens[caller]}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: res.statusCode === 200 ? '' : Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

const admittedPerKey = spec.keys.map(() => 0);
const measured = { admitted: 0, refused: 0, errors: 0, windowMs: spec.durationMs };
const refusalSamples = new Set<string>();
const latenciesMs: number[] = [];
const start = performance.now();
const windowStart = start + spec.warmupMs;
const windowEnd = windowStart + spec.durationMs;
setTimeout(() => parentPort!.postMessage({ type: 'measuring' } satisfies CallersMessage), spec.warmupMs);
let endedSent = false;
const sendEnded = () => {
  if (endedSent) return;
  endedSent = true;
  parentPort!.postMessage({ type: 'ended' } satisfies CallersMessage);
};
const endedTimer = setTimeout(sendEnded, spec.warmupMs + spec.durationMs);

async function loop(caller: number): Promise<void> {
  while (performance.now() < windowEnd) {
    const keyIndex = spec.keys.length === 1 ? 0 : Math.floor(Math.random() * spec.keys.length);
    const sent = performance.now();
    let outcome: 'admitted' | 'refused' | 'errors';
    try {
      const { status, body } = await create(caller, spec.keys[keyIndex]!);
      outcome = status === 200 ? 'admitted' : 'refused';
      if (outcome === 'admitted') admittedPerKey[keyIndex]! += 1;
      else if (refusalSamples.size < 5) refusalSamples.add(`${status} ${body.slice(0, 200)}`);
    } catch (error) {
      outcome = 'errors';
      if (refusalSamples.size < 5) refusalSamples.add(`network: ${(error as Error).message}`);
    }
    const done = performance.now();
    // Answers that arrived inside the window count, and their latencies (from request to answer) are the window's.
    if (done >= windowStart && done <= windowEnd) {
      measured[outcome] += 1;
      latenciesMs.push(done - sent);
    }
  }
}

await Promise.all(spec.tokens.map((_, caller) => loop(caller)));
// The loops stop at windowEnd by the clock, which can come a moment before the timer fires: "ended" always precedes "done".
clearTimeout(endedTimer);
sendEnded();
const result: CallersResult = { admittedPerKey, measured, refusalSamples: [...refusalSamples], latenciesMs };
parentPort!.postMessage({ type: 'done', result } satisfies CallersMessage);
for (const agent of agents) agent.destroy();

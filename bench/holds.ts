/**
 * npm run bench:holds — guarded admissions: holds.create (quantity 1) from 200 callers in flight,
 * each with its own JWT, on one hot key and spread over 1,000 keys, against 1 and 2 hub processes
 * behind one Redis and one MongoDB (mongo-java-server, or MONGODB_URI / REDIS_URL when set).
 *
 * Every key's ledger exists before the clock starts (one admission each). Each run ends with the
 * exact count checked against MongoDB: per key, the active holds there are the admissions the
 * callers were answered, and the ledger's free places are the capacity minus them. The hubs time
 * where each request spends its time (bench/holds/hub.ts); /proc gives each process's CPU.
 * Writes the `## bench:holds` section of docs/benchmarks.md.
 *
 * Tuning (quick trials only; the documented figures use the defaults):
 * BENCH_CONCURRENCY (200), BENCH_WARMUP_MS (5000), BENCH_DURATION_MS (15000).
 */
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { Types } from 'mongoose';
import { addDays, keyOf, todayIn, type Key } from '@slotcast/shared';
import { withDatabase } from '../server/src/devservices/services.ts';
import { connectDatabase } from '../server/src/db/connect.ts';
import { AvailabilityReader } from '../server/src/availability/reader.ts';
import { Tokens } from '../server/src/auth/tokens.ts';
import { cleanupRegistry, startBench } from './harness.ts';
import { percentile } from './load.ts';
import { childrenOf, cpuSeconds, forkChild, machineCpu, type Forked } from './fanout/processes.ts';
import { machine, writeSection } from './report.ts';
import type { CallersMessage, CallersResult, CallersSpec } from './holds/callers.ts';
import type { HubIn, HubOut, HubStats } from './holds/hub.ts';

const envNumber = (name: string, fallback: number) => {
  const value = Number(process.env[name] || fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
};
const CONCURRENCY = envNumber('BENCH_CONCURRENCY', 200);
// Long, because at 200 in flight a call may take seconds here: callers that all start at once move in step at first.
const WARMUP_MS = envNumber('BENCH_WARMUP_MS', 5_000);
const DURATION_MS = envNumber('BENCH_DURATION_MS', 15_000);
/** Never reached in a run: every call is an admission, and the count stays exact. */
const CAPACITY = 1_000_000;
const SPREAD = { sessions: 50, dates: 20 };
const TARGET = { rate: 1_000, p99Ms: 50 };
const SECRET = 'bench-holds-secret-at-least-32-characters';

type Hub = Forked<HubIn, HubOut> & { port: number };
interface Scenario {
  instances: number;
  spread: boolean;
  concurrency: number;
}
interface Row extends Scenario {
  keys: number;
  result: CallersResult;
  stats: HubStats;
  cpu: Record<'hubs' | 'java' | 'redis' | 'bench' | 'machine', number>;
  held: number;
  exact: boolean;
}

const { abort, cleanup, onCleanup } = cleanupRegistry('bench:holds');
const WORKER_URL = new URL('./holds/callers.ts', import.meta.url).href;
// Workers do not inherit tsx's loader from `--import tsx` on Node 20, so the worker registers it first.
const BOOT = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(WORKER_URL)}); })`;

function runCallers(spec: CallersSpec, on: { measuring(): void; ended(): void }): Promise<CallersResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(BOOT, { eval: true, workerData: spec });
    const stop = () => void worker.terminate();
    abort.signal.addEventListener('abort', stop, { once: true });
    worker.on('message', (message: CallersMessage) => {
      if (message.type === 'measuring') on.measuring();
      else if (message.type === 'ended') on.ended();
      else resolve(message.result);
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      abort.signal.removeEventListener('abort', stop);
      reject(new Error(`callers worker exited (${code}) without a result`));
    });
  });
}

async function statsOf(hubs: Hub[]): Promise<HubStats> {
  const all = await Promise.all(hubs.map((hub) => (hub.send({ type: 'stats' }), hub.next((m): m is Extract<HubOut, { type: 'stats' }> => m.type === 'stats'))));
  const sum = { ...all[0]!.stats };
  sum.commands = {};
  for (const { stats } of all) {
    for (const [name, { n, ms: total }] of Object.entries(stats.commands)) {
      const entry = (sum.commands[name] ??= { n: 0, ms: 0 });
      entry.n += n;
      entry.ms += total;
    }
  }
  for (const { stats } of all.slice(1)) for (const field of Object.keys(sum) as (keyof HubStats)[]) if (field !== 'commands') sum[field] += stats[field];
  return sum;
}

const fixed = (value: number, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
const ms = (value: number) => fixed(value, value >= 100 ? 0 : 1);
const pct = (part: number, whole: number) => (whole > 0 ? `${Math.round((100 * part) / whole)}%` : 'n/a');
const int = (value: number) => Math.round(value).toLocaleString('en-US');

async function main(): Promise<void> {
  const { loadBefore, log, services, redisUrl } = await startBench(onCleanup);
  const dbUri = withDatabase(services.mongoUri, `bench_holds_${Date.now()}`);
  const database = await connectDatabase(dbUri);
  onCleanup(async () => {
    await database.connection.dropDatabase();
    await database.close();
  });
  const hot = new Types.ObjectId();
  const spread = Array.from({ length: SPREAD.sessions }, () => new Types.ObjectId());
  // Sessions before the hubs start, so every instance's catalog has them.
  await database.models.Session.insertMany(
    [hot, ...spread].map((_id, i) => ({ _id, name: `Bench ${i}`, startTime: `${String(6 + (i % 14)).padStart(2, '0')}:00`, endTime: `${String(6 + (i % 14)).padStart(2, '0')}:45`, capacity: CAPACITY })),
  );
  const tokens = new Tokens(SECRET);
  const bearer = await Promise.all(Array.from({ length: CONCURRENCY }, (_, i) => tokens.sign({ sub: `caller-${i}` }, '2h')));
  const javaPid = services.wireServers[0]?.pid;
  const redisPid = services.redisServer ? childrenOf(services.redisServer.pid)[0] : undefined;

  const scenarios: Scenario[] = [
    { instances: 1, spread: false, concurrency: 1 },
    { instances: 1, spread: false, concurrency: CONCURRENCY },
    { instances: 1, spread: true, concurrency: CONCURRENCY },
    { instances: 2, spread: false, concurrency: CONCURRENCY },
    { instances: 2, spread: true, concurrency: CONCURRENCY },
  ];
  const rows: Row[] = [];
  let hubs: Hub[] = [];
  for (const [s, scenario] of scenarios.entries()) {
    if (hubs.length !== scenario.instances) {
      await Promise.all(hubs.map((hub) => hub.stop({ type: 'bye' })));
      hubs = await Promise.all(
        Array.from({ length: scenario.instances }, async (_, i) => {
          const child = forkChild<HubIn, HubOut>('../holds/hub.ts', {
            env: {
              PORT: '0', HOST: '127.0.0.1', MONGODB_URI: `${dbUri}${dbUri.includes('?') ? '&' : '?'}monitorCommands=true`, REDIS_URL: redisUrl,
              REDIS_KEY_PREFIX: `bench-holds-${scenario.instances}`, INSTANCE_ID: `hub-${i}`, JWT_SECRET: SECRET, LOG_LEVEL: 'silent',
              // One load generator is one client address: a per-client rate limit would measure the limiter.
              TRPC_RATE_LIMIT_REQUESTS: '0',
            },
          });
          onCleanup(() => child.stop({ type: 'bye' }));
          const ready = await child.next((m): m is Extract<HubOut, { type: 'ready' }> => m.type === 'ready');
          return Object.assign(child, { port: ready.port });
        }),
      );
      log(`${scenario.instances} hub process(es) up`);
    }
    // Each scenario on keys of its own (dates of their own), so no run starts with another's holds.
    const first = addDays(todayIn('UTC'), 2 + s * (SPREAD.dates + 1));
    const keys: Key[] = scenario.spread
      ? spread.flatMap((sessionId) => Array.from({ length: SPREAD.dates }, (_, d) => ({ sessionId: String(sessionId), date: addDays(first, d) })))
      : [{ sessionId: String(hot), date: first }];
    const targets = hubs.map((hub) => ({ host: '127.0.0.1', port: hub.port }));
    log(`${keys.length} key(s), ${scenario.instances} instance(s), ${scenario.concurrency} in flight: ledgers first…`);
    // One admission per key (not measured) creates its ledger.
    for (let i = 0; i < keys.length; i += CONCURRENCY) {
      await Promise.all(keys.slice(i, i + CONCURRENCY).map(async (key, j) => {
        const response = await fetch(`http://127.0.0.1:${targets[j % targets.length]!.port}/trpc/holds.create`, {
          method: 'POST', headers: { authorization: `Bearer ${bearer[j % bearer.length]}`, 'content-type': 'application/json' }, body: JSON.stringify({ ...key, quantity: 1 }),
        });
        if (response.status !== 200) throw new Error(`warming ${keyOf(key)}: HTTP ${response.status} ${(await response.text()).slice(0, 300)}`);
      }));
    }
    log(`  ${WARMUP_MS} ms warm-up + ${DURATION_MS} ms…`);
    const watched = () => ({ hubs: hubs.reduce((sum, hub) => sum + cpuSeconds(hub.pid), 0), java: javaPid ? cpuSeconds(javaPid) : Number.NaN, redis: redisPid ? cpuSeconds(redisPid) : Number.NaN, bench: cpuSeconds(process.pid), machine: machineCpu().busy });
    let before = watched();
    let cpu = before;
    let windowStats: Promise<HubStats> | undefined;
    const result = await runCallers(
      { targets, tokens: bearer.slice(0, scenario.concurrency), keys, warmupMs: WARMUP_MS, durationMs: DURATION_MS },
      {
        measuring: () => {
          for (const hub of hubs) hub.send({ type: 'reset' });
          before = watched();
        },
        ended: () => {
          const after = watched();
          cpu = Object.fromEntries(Object.entries(after).map(([name, value]) => [name, (value - before[name as keyof typeof before]) / (DURATION_MS / 1000)])) as typeof cpu;
          windowStats = statsOf(hubs);
        },
      },
    );
    const stats = await windowStats!;

    // The exact count: MongoDB's active holds per key are the prewarm admission plus every admission answered.
    const reader = new AvailabilityReader(database.models);
    const dates = keys.map((key) => key.date).sort();
    const held = await reader.held({ from: dates[0]!, to: dates.at(-1)!, sessionIds: [...new Set(keys.map((key) => key.sessionId))] });
    const expected = keys.map((_, i) => 1 + result.admittedPerKey[i]!);
    const holdsMatch = keys.every((key, i) => (held.get(keyOf(key)) ?? 0) === expected[i]);
    const deadline = performance.now() + 30_000;
    let ledgersMatch = false;
    while (!ledgersMatch && performance.now() < deadline) {
      // Claims settle once their holds are written; a free count taken twice in flight is put right by the change feed.
      const ledgers = new Map((await database.models.Ledger.find({ _id: { $in: keys.map(keyOf) } }).lean()).map((doc) => [doc._id, doc]));
      ledgersMatch = keys.every((key, i) => ledgers.get(keyOf(key))?.claims.length === 0 && ledgers.get(keyOf(key))?.free === CAPACITY - expected[i]!);
      if (!ledgersMatch) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const total = expected.reduce((sum, n) => sum + n, 0);
    rows.push({ ...scenario, keys: keys.length, result, stats, cpu, held: total, exact: holdsMatch && ledgersMatch });
    const rate = result.measured.admitted / (DURATION_MS / 1000);
    const slowest = Object.entries(stats.commands).sort((a, b) => b[1].ms - a[1].ms).slice(0, 8);
    log(`  MongoDB commands in the window (count, mean ms): ${slowest.map(([name, c]) => `${name} ${c.n} x ${fixed(c.ms / c.n, 1)}`).join(', ')}`);
    log(`  ${int(rate)} admissions/s; MongoDB holds ${int([...held.values()].reduce((a, b) => a + b, 0))} of ${int(total)} answered, ledgers ${ledgersMatch ? 'exact' : 'NOT exact'}${result.refusalSamples.length ? `; e.g. ${result.refusalSamples[0]}` : ''}`);
  }
  await Promise.all(hubs.map((hub) => hub.stop({ type: 'bye' })));
  report(rows, loadBefore);
}

function report(rows: Row[], loadBefore: number): void {
  const lines = [
    '| keys | hub processes | in flight | admissions/s | p50 ms | p99 ms | max ms | refused / failed | exact in MongoDB | MongoDB | Redis | hub | waiting for a MongoDB connection | MongoDB commands per admission (request + background) | CPU cores: hubs / Java / redis / load / whole machine |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const row of rows) {
    const { measured, latenciesMs } = row.result;
    const sorted = Float64Array.from(latenciesMs).sort();
    const s = row.stats;
    const admissions = Math.max(1, s.requests);
    lines.push(
      `| ${int(row.keys)} | ${row.instances} | ${row.concurrency} | ${int(measured.admitted / (measured.windowMs / 1000))} | ${ms(percentile(sorted, 50))} | ${ms(percentile(sorted, 99))} | ${ms(sorted.at(-1) ?? Number.NaN)} | ${measured.refused} / ${measured.errors} | ${row.exact ? `yes (${int(row.held)} holds)` : '**NO**'} | ${pct(s.mongoMs, s.wallMs)} | ${pct(s.redisMs, s.wallMs)} | ${pct(s.wallMs - s.storesMs, s.wallMs)} | ${fixed(s.poolWaitMs / measured.windowMs, 1)} | ${fixed(s.mongoCommands / admissions, 1)} + ${fixed(s.backgroundMongoCommands / admissions, 1)} | ${['hubs', 'java', 'redis', 'bench', 'machine'].map((name) => fixed(row.cpu[name as keyof Row['cpu']], 2)).join(' / ')} |`,
    );
  }
  const hot2 = rows.find((row) => row.instances === 2 && !row.spread)!;
  const perAdmission = Object.entries(hot2.stats.commands)
    .sort((a, b) => b[1].ms - a[1].ms)
    .map(([name, c]) => `| ${name.startsWith('feed/') ? `${name.slice(13)} (no request: change feed, sweeper, lease)` : name} | ${fixed(c.n / Math.max(1, hot2.stats.requests), 1)} | ${ms(c.ms / c.n)} |`);
  const hotRate = hot2.result.measured.admitted / (hot2.result.measured.windowMs / 1000);
  const hotP99 = percentile(Float64Array.from(hot2.result.latenciesMs).sort(), 99);
  const body = [
    `- Date: ${new Date().toISOString()}`,
    `- Machine: ${machine()}; 1-minute load average ${loadBefore.toFixed(2)} before the run. Other engineers' processes share these cores: "whole machine" below is every process's CPU, ours included.`,
    `- Setup: mongo-java-server${process.env.MONGODB_URI ? ' (MONGODB_URI)' : ''} and redis-server${process.env.REDIS_URL ? ' (REDIS_URL)' : ''}; hub processes as \`main.ts\` starts them (\`bench/holds/hub.ts\` adds only the stopwatch), default config but TRPC_RATE_LIMIT_REQUESTS 0. Sessions of ${int(CAPACITY)} places, so no call is refused; the spread case uses ${SPREAD.sessions} sessions x ${SPREAD.dates} dates, a random key per call.`,
    `- Load: a worker thread of this process; ${CONCURRENCY} callers (each its own JWT and keep-alive socket, spread over the instances), each keeping one tRPC POST \`holds.create\` { quantity: 1 } in flight. Every key's ledger exists before the clock starts. ${WARMUP_MS / 1000} s warm-up, then ${DURATION_MS / 1000} s measured: answers completed in the window, latency from request to answer.`,
    `- Exact: after each run, per key, MongoDB's active holds equal the admissions the callers were answered (plus the one that created the ledger), and the ledger's free places equal the capacity minus them, with no claim left.`,
    `- Time shares (of the summed wall time of holds.create requests, measured inside the hubs, \`bench/holds/hub.ts\`): MongoDB = time with at least one of the request's MongoDB commands in flight (driver command monitoring, from sending the command to its reply; commands run in parallel count once); Redis the same for its commands (ioredis); hub = the rest (its own code, tRPC, JSON, and waiting for a pooled MongoDB connection: "waiting for a MongoDB connection" is the mean number of operations waiting, per hub summed). Commands per admission: those the request sent, and those no request sent (the leader's change feed and sweeper) per admission. CPU: cores used over the window, from /proc.`,
    '',
    ...lines,
    '',
    `### MongoDB commands per admission (hot key, 2 instances)`,
    '',
    '| command | per admission | mean round trip ms |',
    '| --- | ---: | ---: |',
    ...perAdmission,
    '',
    '### Targets',
    '',
    `- At least ${int(TARGET.rate)} admissions/s on one hot key across 2 instances: **${hotRate >= TARGET.rate ? 'met' : 'MISSED'}** (${int(hotRate)}/s).`,
    `- p99 under ${TARGET.p99Ms} ms at ${CONCURRENCY} in flight: **${hotP99 < TARGET.p99Ms ? 'met' : 'MISSED'}** (${ms(hotP99)} ms, hot key, 2 instances). With ${CONCURRENCY} calls always in flight, mean latency is ${CONCURRENCY} / throughput (Little's law): a p99 under ${TARGET.p99Ms} ms needs well over ${int(CONCURRENCY / (TARGET.p99Ms / 1000))} admissions/s.`,
    '',
    '### Where the limit is',
    '',
    `- Per admission on the hot key (2 instances) the hubs sent ${fixed(hot2.stats.mongoCommands / Math.max(1, hot2.stats.requests), 1)} MongoDB commands inside the request and ${fixed(hot2.stats.backgroundMongoCommands / Math.max(1, hot2.stats.requests), 1)} outside it; requests spent ${pct(hot2.stats.mongoMs, hot2.stats.wallMs)} of their time waiting on MongoDB, ${pct(hot2.stats.redisMs, hot2.stats.wallMs)} on Redis, ${pct(hot2.stats.wallMs - hot2.stats.storesMs, hot2.stats.wallMs)} in the hub.`,
    `- CPU over that window: hubs ${fixed(hot2.cpu.hubs, 2)}, mongo-java-server ${fixed(hot2.cpu.java, 2)}, redis-server ${fixed(hot2.cpu.redis, 2)}, load generator ${fixed(hot2.cpu.bench, 2)} cores; the whole machine ${fixed(hot2.cpu.machine, 2)} of ${machine().match(/(\d+) cores/)?.[1] ?? '?'} cores.`,
    "- What the numbers say: at 1 in flight an admission takes about 25 ms, nine MongoDB round trips one after another (the key's check, the ledger's conditional update, the hold, the claim's settlement, and the fresh availability of the answer); at 200 in flight the commands themselves take hundreds of ms, and the operations waiting for a pooled connection (counted in \"hub\") are MongoDB's queue too: MongoDB is where the time goes.",
    "- mongo-java-server runs one command at a time per collection (its collection methods are `synchronized`), so every hold insert, hold aggregation and change-stream read queues behind the others; two of the seven commands are aggregations over the key's holds and bookings (for the availability in the answer; `requireBookable` reads only the session and its override since 2026-12-01, which took a hot key on 2 instances from 81 to 110 admissions/s), and on a hot key they grow with its holds. A second instance adds connections, not throughput. On these two shared cores the limit is mongo-java-server (and the CPU it gets), about 1,000 MongoDB commands/s, so about 100 admissions/s; the 1,000/s target needs far fewer commands per admission and a MongoDB that runs them in parallel.",
    '',
    'Reproduce with `npm run bench:holds` (a few minutes).',
  ].join('\n');
  console.log(`\n## bench:holds\n\n${body}\n`);
  writeSection('bench:holds', body);
  console.log('wrote docs/benchmarks.md (section "bench:holds")');
}

try {
  await main();
} catch (error) {
  if (!abort.signal.aborted) {
    console.error('bench:holds failed:', error);
    process.exitCode = 1;
  }
} finally {
  await cleanup();
}

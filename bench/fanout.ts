/**
 * npm run bench:fanout — time from a MongoDB write to the last of N subscribed sockets receiving
 * it, N = 1k, 5k, 10k over two hub processes, next to a bare Socket.IO server pair with the same
 * Redis adapter doing the same fan-out in the same run.
 *
 * Starts MongoDB (mongo-java-server) and redis-server through the dev-services helper (or uses
 * MONGODB_URI / REDIS_URL). Per N it starts two hub processes (`server/src/main.ts`) and two bare
 * servers (bench/fanout/baseline-server.ts), fresh, so RSS before/after is per N. Four client
 * processes (bench/fanout/client.ts) hold N sockets on each system, half on each instance, and
 * report receive times over IPC. Slotcast writes and baseline emits alternate, so both systems
 * see the same machine. Writes the `## bench:fanout` section of docs/benchmarks.md.
 *
 * Tuning (for quick trials only; the documented figures use the defaults):
 * BENCH_FANOUT_SIZES (1000,5000,10000), BENCH_FANOUT_WRITES (30).
 */
import { cpus, loadavg } from 'node:os';
import mongoose, { type mongo } from 'mongoose';
import { Redis } from 'ioredis';
import { withDatabase } from '../server/src/devservices/services.ts';
import { machine, writeSection } from './report.ts';
import {
  now,
  writeKey,
  type BaselineCommand,
  type BaselineReply,
  type ClientCommand,
  type ClientReply,
  type System,
  type Target,
} from './fanout/protocol.ts';
import { cleanupRegistry, startBench } from './harness.ts';
import { childrenOf, cpuSeconds, forkChild, machineCpu, rssKiB, spawnHub, type Forked, type HubProcess } from './fanout/processes.ts';

const SIZES = (process.env.BENCH_FANOUT_SIZES || '1000,5000,10000').split(',').map(Number);
const WRITES = Number(process.env.BENCH_FANOUT_WRITES || 30);
if (SIZES.some((n) => !Number.isInteger(n) || n < 8) || !Number.isInteger(WRITES) || WRITES < 1) {
  throw new Error('BENCH_FANOUT_SIZES must be whole numbers of at least 8, BENCH_FANOUT_WRITES a positive whole number');
}
const CLIENT_PROCESSES = 4;
/** Sockets each client process opens at once (so 200 handshakes in flight across the four). */
const CONNECT_CONCURRENCY = 50;
const WARMUP = { socketsPerClient: 10, writes: 3 };
/** Pause after a write is fully delivered, before the next one. */
const GAP_MS = 50;
const DELIVERY_TIMEOUT_MS = 15_000;
const SETTLE_MS = 1_500;
const IDLE_WINDOW_MS = 3_000;
const RSS_SAMPLE = { count: 10, windowMs: 2_000 };

const DATABASE = 'bench_fanout';
const PREFIX = 'bench-fanout';
const BASELINE_ADAPTER_KEY = 'bench-fanout-baseline';
const ADAPTER_CHANNELS: Record<System, string> = {
  slotcast: `${PREFIX}:socket.io#/availability#*`,
  baseline: `${BASELINE_ADAPTER_KEY}#/availability#*`,
};

const RATIO_TARGET = 1.2;
const P99_TARGET = { n: 1000, ms: 150 };

type Client = Forked<ClientCommand, ClientReply>;
type Baseline = Forked<BaselineCommand, BaselineReply>;
const SYSTEMS: System[] = ['slotcast', 'baseline'];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- statistics and formatting -------------------------------------------------------------

/** Nearest-rank percentile (as bench/load.ts): with fewer than 100 samples, p99 is the largest. */
function percentile(values: number[], p: number): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1]!;
}
interface Summary {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}
const summarize = (values: number[]): Summary => ({
  p50: percentile(values, 50),
  p95: percentile(values, 95),
  p99: percentile(values, 99),
  max: percentile(values, 100),
});
const fixed = (value: number, digits: number) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
const ms = (value: number) => fixed(value, Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2);
const times = (value: number) => (Number.isFinite(value) ? `${value.toFixed(2)}x` : 'n/a');
const pct = (value: number) => (Number.isFinite(value) ? `${Math.round(value * 100)}%` : 'n/a');
const int = (value: number) => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : 'n/a');
const mib = (kib: number) => fixed(kib / 1024, 0);

// ---- observers in the bench process --------------------------------------------------------

/** Every Socket.IO adapter message published to Redis (both systems), with its arrival time here. */
class AdapterObserver {
  private seen: { at: number; pattern: string }[] = [];
  constructor(private readonly redis: Redis) {
    redis.on('pmessageBuffer', (pattern: Buffer) => {
      this.seen.push({ at: now(), pattern: pattern.toString() });
    });
  }
  async start(): Promise<void> {
    await this.redis.psubscribe(...Object.values(ADAPTER_CHANNELS));
  }
  /** The first message of a system's adapter at or after t0 (the update's emit: the first thing published); then forgets. */
  take(system: System, t0: number): number {
    const at = this.seen.find((m) => m.pattern === ADAPTER_CHANNELS[system] && m.at >= t0)?.at ?? Number.NaN;
    this.seen = [];
    return at;
  }
  async close(): Promise<void> {
    await this.redis.quit();
  }
}

/** The hub path's steps, each seen as the first Redis command of its kind (MONITOR) after the write. */
const STEPS = [
  {
    id: 'feed',
    label: 'insert → the leader reads the booking key index (change stream + feed)',
    match: (c: string, a: string[]) => c !== 'hset' && a.includes(`${PREFIX}:booking-keys`),
  },
  {
    id: 'reads',
    label: 'key index → recompute starts its reads (cache MGET and version reserve, side by side)',
    match: (c: string, a: string[]) => (c === 'mget' && a.some((x) => x.startsWith(`${PREFIX}:avail:`))) || a.includes(`${PREFIX}:version`),
  },
  {
    id: 'stored',
    label: 'reads → new figures stored (the MongoDB aggregation and the high-demand count run alongside)',
    match: (c: string, a: string[]) => (c === 'evalsha' || c === 'eval') && a.some((x) => x.startsWith(`${PREFIX}:avail:`)),
  },
  {
    id: 'published',
    label: 'stored → adapter PUBLISH (booking holders: a MongoDB read; then the Socket.IO emit)',
    match: (c: string, a: string[]) => c === 'publish' && (a[1] ?? '').startsWith(`${PREFIX}:socket.io#`),
  },
  {
    id: 'logged',
    label: 'PUBLISH → event-log XADD (for SSE; after the sockets, not before)',
    match: (c: string, a: string[]) => c === 'xadd' && a[1] === `${PREFIX}:events`,
  },
] as const;
type StepId = (typeof STEPS)[number]['id'];

/** Redis MONITOR during the measured writes: when each step of the hub's path ran (Redis server clock, same machine). */
class HubTrace {
  private monitor: Redis | undefined;
  private seen: { at: number; command: string; args: string[] }[] = [];
  async start(redis: Redis): Promise<void> {
    this.monitor = await redis.monitor();
    this.monitor.on('monitor', (time: string, args: unknown[]) => {
      const strings = args.map(String);
      // Only the hub's own keys matter (the bare servers' PUBLISHes are large and irrelevant here).
      if (strings.some((x) => x.startsWith(`${PREFIX}:`))) this.seen.push({ at: Number(time) * 1000, command: strings[0]!.toLowerCase(), args: strings });
    });
  }
  stop(): void {
    this.monitor?.disconnect();
    this.monitor = undefined;
    this.seen = [];
  }
  /** Times (ms after t0) of each step, in order; then forgets what it saw. */
  take(t0: number): Record<StepId, number> {
    const out = {} as Record<StepId, number>;
    let from = t0;
    for (const step of STEPS) {
      const hit = this.seen.find((entry) => entry.at >= from && step.match(entry.command, entry.args));
      out[step.id] = hit ? hit.at - t0 : Number.NaN;
      if (hit) from = hit.at;
    }
    this.seen = [];
    return out;
  }
  clear(): void {
    this.seen = [];
  }
}

interface Delivery {
  complete: boolean;
  received: number;
  first: number;
  last: number;
  /** The last receive per server of the system (0, 1). */
  lastByServer: number[];
}

/** Collects the client processes' "all my sockets have it" reports per write key. */
class Deliveries {
  private readonly pending = new Map<
    string,
    { reports: { first: number; last: number; count: number; lastByServer: (number | null)[] }[]; done: (d: Delivery) => void }
  >();
  constructor(private readonly clients: Client[]) {
    for (const client of clients) {
      client.on((message) => {
        if (message.op !== 'delivered') return;
        const entry = this.pending.get(message.key);
        if (!entry) return;
        entry.reports.push(message);
        if (entry.reports.length === this.clients.length) {
          this.pending.delete(message.key);
          entry.done({
            complete: true,
            received: entry.reports.reduce((sum, r) => sum + r.count, 0),
            first: Math.min(...entry.reports.map((r) => r.first)),
            last: Math.max(...entry.reports.map((r) => r.last)),
            lastByServer: [0, 1].map((i) => Math.max(...entry.reports.map((r) => r.lastByServer[i] ?? Number.NaN))),
          });
        }
      });
    }
  }

  /** Call before the write; resolves when every client process has it, or after the timeout with what arrived. */
  wait(key: string): Promise<Delivery> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(key);
        const isStatus = (m: ClientReply): m is Extract<ClientReply, { op: 'status' }> => m.op === 'status' && m.key === key;
        void Promise.all(
          this.clients.map((client) => {
            const answer = client.next(isStatus, 10_000);
            client.send({ op: 'status', key });
            return answer;
          }),
        ).then(
          (statuses) =>
            resolve({
              complete: false,
              received: statuses.reduce((sum, s) => sum + s.count, 0),
              first: Math.min(...statuses.map((s) => s.first ?? Number.NaN)),
              last: Math.max(...statuses.map((s) => s.last ?? Number.NaN)),
              lastByServer: [Number.NaN, Number.NaN],
            }),
          () => resolve({ complete: false, received: 0, first: Number.NaN, last: Number.NaN, lastByServer: [Number.NaN, Number.NaN] }),
        );
      }, DELIVERY_TIMEOUT_MS);
      this.pending.set(key, {
        reports: [],
        done: (delivery) => {
          clearTimeout(timer);
          resolve(delivery);
        },
      });
    });
  }
}

/**
 * RSS per server (KiB), the smallest of samples over RSS_SAMPLE.windowMs: garbage comes and goes
 * (the leader's change-stream polling makes plenty), sockets stay.
 */
async function quietRss(servers: Record<System, ProcessUse[]>): Promise<number[][]> {
  const least = SYSTEMS.map((system) => servers[system].map(() => Number.POSITIVE_INFINITY));
  for (let i = 0; i < RSS_SAMPLE.count; i++) {
    SYSTEMS.forEach((system, k) => servers[system].forEach((server, j) => (least[k]![j] = Math.min(least[k]![j]!, rssKiB(server.pid)))));
    await sleep(RSS_SAMPLE.windowMs / RSS_SAMPLE.count);
  }
  return least;
}

// ---- MongoDB alone ---------------------------------------------------------------------------

interface ChangeStreamProbe {
  latencies: number[];
  /** Cores used while the stream was open and idle: by this process (the driver), and by mongo-java-server. */
  idleNode: number;
  idleJava: number;
}

/** Insert → change event through a bare `watch()` in this process, before anything else runs; and what an idle open stream costs. */
async function probeChangeStream(collection: mongo.Collection, javaPid: number | undefined): Promise<ChangeStreamProbe> {
  const seen = new Map<string, number>();
  const stream = collection.watch();
  stream.on('change', (event) => {
    if (event.operationType === 'insert') seen.set(String(event.documentKey._id), now());
  });
  try {
    await sleep(1_000);
    const java0 = javaPid ? cpuSeconds(javaPid) : Number.NaN;
    const node0 = process.cpuUsage();
    await sleep(IDLE_WINDOW_MS);
    const node = process.cpuUsage(node0);
    const idleJava = javaPid ? (cpuSeconds(javaPid) - java0) / (IDLE_WINDOW_MS / 1000) : Number.NaN;
    const idleNode = (node.user + node.system) / 1000 / IDLE_WINDOW_MS;
    const latencies: number[] = [];
    for (let i = 0; i < WRITES; i++) {
      const id = new mongoose.mongo.ObjectId();
      const t0 = now();
      await collection.insertOne({ _id: id, i });
      while (!seen.has(id.toHexString()) && now() - t0 < DELIVERY_TIMEOUT_MS) await sleep(1);
      latencies.push((seen.get(id.toHexString()) ?? Number.NaN) - t0);
      await sleep(GAP_MS);
    }
    return { latencies, idleNode, idleJava };
  } finally {
    await stream.close();
  }
}

// ---- one run -------------------------------------------------------------------------------

interface WriteSample {
  /** t0 → last socket. */
  total: number;
  /** t0 → first socket. */
  firstSocket: number;
  /** t0 → last socket on each of the system's two servers. */
  lastByServer: number[];
  /** t0 → the adapter's publish arriving at a Redis subscriber in the bench process. */
  publish: number;
  complete: boolean;
  received: number;
  /** slotcast: when each step ran (ms after t0), from Redis MONITOR. */
  steps?: Record<StepId, number>;
}

interface ProcessUse {
  name: string;
  pid: number;
}

interface SizeResult {
  n: number;
  leader: string;
  sockets: Record<System, number>;
  failedSockets: number;
  connectMs: number;
  samples: Record<System, WriteSample[]>;
  /** The warm-up writes right after the N sockets connected (not in the percentiles). */
  settling: Record<System, WriteSample[]>;
  rss: Record<System, { name: string; before: number; after: number; perSocketKiB: number }[]>;
  cpu: { name: string; share: number }[];
  /** CPU of the servers (and the test database) with no sockets and no writes, before the warm-up. */
  idle: { name: string; share: number }[];
  /** CPU of everything on the machine during the window, and of what this bench did not start, in cores. */
  machineBusy: number;
  others: number;
  windowSeconds: number;
  clientElu: number[];
  loadAfter: number;
}

const { abort, cleanup, onCleanup } = cleanupRegistry('bench:fanout');

async function main(): Promise<void> {
  const { started, loadBefore, log, services, redisUrl } = await startBench(onCleanup);
  const mongoUri = withDatabase(services.mongoUri, DATABASE);

  const conn = await mongoose.createConnection(mongoUri).asPromise();
  onCleanup(() => conn.close());
  await conn.dropDatabase();
  const db = conn.db!;
  const sessionId = new mongoose.mongo.ObjectId();
  await db.collection('sessions').insertOne({ _id: sessionId, name: 'Bench', startTime: '10:00', endTime: '11:00', capacity: 1_000_000, active: true });
  const today = new Date().toISOString().slice(0, 10);
  const channel = `availability.${today}`;
  const bookings = db.collection('bookings');

  // A REDIS_URL from the environment may hold an earlier run's keys under these prefixes.
  const redis = new Redis(redisUrl);
  onCleanup(() => redis.quit());
  for (const pattern of [`${PREFIX}:*`, `${BASELINE_ADAPTER_KEY}*`]) {
    const stale = await redis.keys(pattern);
    if (stale.length > 0) await redis.del(...stale);
  }
  const observer = new AdapterObserver(redis.duplicate());
  onCleanup(() => observer.close());
  await observer.start();
  const trace = new HubTrace();
  onCleanup(async () => trace.stop());

  log(`MongoDB alone: ${WRITES} inserts seen through a bare change stream (no hubs running yet)…`);
  const probe = await probeChangeStream(db.collection('fanout_probe'), services.wireServers[0]?.pid);

  log(`starting ${CLIENT_PROCESSES} client processes…`);
  const clients: Client[] = Array.from({ length: CLIENT_PROCESSES }, () =>
    forkChild<ClientCommand, ClientReply>('./client.ts', { execArgv: ['--max-old-space-size=4096'] }),
  );
  for (const client of clients) onCleanup(() => client.stop({ op: 'exit' }));
  log(
    `client pids ${clients.map((c) => c.pid).join(', ')}; mongo-java-server pid ${services.wireServers[0]?.pid ?? 'n/a'}, redis-server holder pid ${services.redisServer?.pid ?? 'n/a'}`,
  );
  const deliveries = new Deliveries(clients);
  const sharedProcesses = [
    { name: 'mongo-java-server', pid: services.wireServers[0]?.pid },
    { name: 'redis-server', pid: services.redisServer ? childrenOf(services.redisServer.pid)[0] : undefined },
    { name: 'bench process', pid: process.pid },
  ].filter((p): p is ProcessUse => p.pid !== undefined);

  let booked = 0;
  let baselineSeq = 0;
  let sample: Record<string, unknown> | undefined;

  /** Opens `n` sockets per system, split evenly over the client processes and, inside each, over the two servers of each system. */
  async function connectAll(urls: Record<System, [string, string]>, n: number) {
    const replies = await Promise.all(
      clients.map((client, i) => {
        const share = Math.floor(n / clients.length) + (i < n % clients.length ? 1 : 0);
        const targets: Target[] = SYSTEMS.flatMap((system) => [
          { url: urls[system][0], count: Math.ceil(share / 2), system, server: 0 },
          { url: urls[system][1], count: Math.floor(share / 2), system, server: 1 },
        ]);
        const reply = client.next((m): m is Extract<ClientReply, { op: 'connected' }> => m.op === 'connected', 300_000);
        client.send({ op: 'connect', targets, channel, concurrency: CONNECT_CONCURRENCY });
        return reply;
      }),
    );
    for (const reply of replies) {
      if (reply.errors.length > 0) console.error(`  connect errors, for example: ${reply.errors.join(' | ')}`);
      sample ??= reply.sample;
    }
    const sockets = { slotcast: 0, baseline: 0 };
    for (const reply of replies) for (const system of SYSTEMS) sockets[system] += reply.sockets[system];
    return {
      sockets,
      failed: replies.reduce((sum, r) => sum + r.failed, 0),
      ms: Math.max(...replies.map((r) => r.ms)),
      sample: replies.find((r) => r.sample)?.sample,
    };
  }

  async function disconnectAll(): Promise<number[]> {
    const replies = await Promise.all(
      clients.map((client) => {
        const reply = client.next((m): m is Extract<ClientReply, { op: 'disconnected' }> => m.op === 'disconnected', 60_000);
        client.send({ op: 'disconnect' });
        return reply;
      }),
    );
    return replies.map((r) => r.elu);
  }

  /** One write (a booking insert, or the baseline's emit), timed to the last socket. */
  async function write(system: System, emitter: Baseline): Promise<WriteSample> {
    let t0: number;
    let delivery: Delivery;
    if (system === 'slotcast') {
      booked += 1;
      const delivered = deliveries.wait(writeKey(system, booked));
      const at = new Date();
      t0 = now();
      await bookings.insertOne({ sessionId, date: today, userId: 'b', quantity: 1, status: 'confirmed', createdAt: at, updatedAt: at });
      delivery = await delivered;
    } else {
      baselineSeq += 1;
      const delivered = deliveries.wait(writeKey(system, baselineSeq));
      const payload = { ...(sample ?? { sessionId: String(sessionId), date: today }), booked: baselineSeq, version: baselineSeq, reason: 'booking' };
      t0 = now();
      emitter.send({ op: 'emit', room: channel, payload });
      delivery = await delivered;
    }
    const steps = system === 'slotcast' ? trace.take(t0) : undefined;
    if (!steps) trace.clear();
    return {
      total: delivery.last - t0,
      firstSocket: delivery.first - t0,
      lastByServer: delivery.lastByServer.map((at) => at - t0),
      publish: observer.take(system, t0) - t0,
      complete: delivery.complete,
      received: delivery.received,
      steps,
    };
  }

  /** Alternates the systems, starting with the other one each round, so neither always goes first. */
  async function rounds(count: number, emitter: Baseline, record?: Record<System, WriteSample[]>, expected?: Record<System, number>) {
    for (let i = 0; i < count && !abort.signal.aborted; i++) {
      for (const system of i % 2 === 0 ? SYSTEMS : [...SYSTEMS].reverse()) {
        const result = await write(system, emitter);
        if (record) {
          if (!result.complete) {
            console.error(`  ${system} write ${i + 1}: only ${int(result.received)} of ${int(expected![system])} sockets had it after ${DELIVERY_TIMEOUT_MS} ms`);
          }
          record[system].push(result);
        }
        await sleep(GAP_MS);
      }
    }
  }

  const results: SizeResult[] = [];
  for (const n of SIZES) {
    if (abort.signal.aborted) break;
    log(`N = ${int(n)}: starting two hubs and two bare servers…`);
    const hubEnv = (instance: string) => ({
      PORT: '0',
      HOST: '127.0.0.1',
      MONGODB_URI: mongoUri,
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: PREFIX,
      INSTANCE_ID: instance,
      JWT_SECRET: 'x'.repeat(40),
      COALESCE_MS: '0',
      LOG_LEVEL: 'info',
    });
    const hubs: HubProcess[] = [spawnHub('hub-a', hubEnv('hub-a')), spawnHub('hub-b', hubEnv('hub-b'))];
    for (const hub of hubs) onCleanup(() => hub.stop());
    const baselines: Baseline[] = [1, 2].map(() =>
      forkChild<BaselineCommand, BaselineReply>('./baseline-server.ts', { env: { REDIS_URL: redisUrl, ADAPTER_KEY: BASELINE_ADAPTER_KEY } }),
    );
    for (const b of baselines) onCleanup(() => b.stop({ op: 'stop' }));

    const isListening = (m: BaselineReply): m is Extract<BaselineReply, { op: 'listening' }> => m.op === 'listening';
    const [hubPorts, baselinePorts] = await Promise.all([
      Promise.all(hubs.map((hub) => hub.port())),
      Promise.all(baselines.map((b) => b.next(isListening, 60_000).then((m) => m.port))),
    ]);
    const leader = await Promise.race(hubs.map((hub) => hub.waitForLog((l) => l.msg === 'leader lease acquired', 30_000).then(() => hub)));
    // The new leader recomputes the horizon first; measuring starts after that.
    await leader.waitForLog((l) => l.msg === 'resynced the horizon', 60_000);
    log(
      `N = ${int(n)}: hubs on ports ${hubPorts.join(', ')} (pids ${hubs.map((h) => h.pid).join(', ')}; leader ${leader.name}),` +
        ` bare servers on ${baselinePorts.join(', ')} (pids ${baselines.map((b) => b.pid).join(', ')})`,
    );
    const url = (port: number) => `http://127.0.0.1:${port}`;
    const urls: Record<System, [string, string]> = {
      slotcast: [url(hubPorts[0]!), url(hubPorts[1]!)],
      baseline: [url(baselinePorts[0]!), url(baselinePorts[1]!)],
    };
    const servers: Record<System, ProcessUse[]> = {
      slotcast: hubs.map((hub) => ({ name: hub === leader ? `${hub.name} (leader)` : hub.name, pid: hub.pid })),
      baseline: baselines.map((b, i) => ({ name: `bare ${i + 1}${i === 0 ? ' (emits)' : ''}`, pid: b.pid })),
    };
    const emitter = baselines[0]!;

    // What the servers cost doing nothing (no sockets, no writes).
    const idleProcesses = [...servers.slotcast, ...servers.baseline, ...sharedProcesses.filter((p) => p.name === 'mongo-java-server')];
    const idleBefore = idleProcesses.map((p) => cpuSeconds(p.pid));
    await sleep(IDLE_WINDOW_MS);
    const idle = idleProcesses.map((p, i) => ({ name: p.name, share: (cpuSeconds(p.pid) - idleBefore[i]!) / (IDLE_WINDOW_MS / 1000) }));

    // Warm-up: a few sockets and writes through both paths, not recorded.
    const warm = await connectAll(urls, WARMUP.socketsPerClient * clients.length);
    // The snapshot tells the current count; the next insert makes it one more.
    if (typeof warm.sample?.booked === 'number' && warm.sample.booked !== booked) {
      console.error(`  the snapshot says booked = ${warm.sample.booked}, the bench counted ${booked}; following the snapshot`);
      booked = warm.sample.booked;
    }
    await rounds(WARMUP.writes, emitter);
    await disconnectAll();
    await sleep(SETTLE_MS);
    const rssBefore = await quietRss(servers);

    log(`N = ${int(n)}: connecting ${int(n)} sockets to each system…`);
    const connected = await connectAll(urls, n);
    for (const system of SYSTEMS) {
      if (connected.sockets[system] !== n) console.error(`  ${system}: only ${connected.sockets[system]} of ${n} sockets connected and subscribed`);
    }
    log(`N = ${int(n)}: ${int(connected.sockets.slotcast + connected.sockets.baseline)} sockets subscribed in ${(connected.ms / 1000).toFixed(1)} s; ${WRITES} rounds…`);
    await sleep(SETTLE_MS);
    const rssAfter = await quietRss(servers);
    // The first writes after a connect storm run into its garbage; they are reported, not counted.
    const settling: Record<System, WriteSample[]> = { slotcast: [], baseline: [] };
    await rounds(WARMUP.writes, emitter, settling, connected.sockets);

    const watched: ProcessUse[] = [...servers.slotcast, ...servers.baseline, ...clients.map((c, i) => ({ name: `client ${i + 1}`, pid: c.pid })), ...sharedProcesses];
    await trace.start(redis);
    const cpuBefore = watched.map((p) => cpuSeconds(p.pid));
    const machineBefore = machineCpu();
    const windowStart = now();
    const samples: Record<System, WriteSample[]> = { slotcast: [], baseline: [] };
    await rounds(WRITES, emitter, samples, connected.sockets);
    const windowSeconds = (now() - windowStart) / 1000;
    const machineAfter = machineCpu();
    const cpuAfter = watched.map((p) => cpuSeconds(p.pid));
    trace.stop();
    const clientElu = await disconnectAll();

    for (const system of SYSTEMS) {
      const totals = samples[system].map((s) => s.total);
      const s = summarize(totals);
      log(`N = ${int(n)}, ${system}: write → last socket p50 ${ms(s.p50)} ms, p99 ${ms(s.p99)} ms; all: ${totals.map((t) => Math.round(t)).join(' ')}`);
    }
    const exitCodes = await Promise.all([...hubs.map((hub) => hub.stop()), ...baselines.map((b) => b.stop({ op: 'stop' }))]);
    if (exitCodes.some((code) => code !== 0)) console.error(`  hubs and bare servers exited with ${exitCodes.join(', ')}`);

    const cpu = watched.map((p, i) => ({ name: p.name, share: (cpuAfter[i]! - cpuBefore[i]!) / windowSeconds }));
    const machineBusy = ((machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total)) * cpus().length;
    results.push({
      n,
      leader: leader.name,
      sockets: connected.sockets,
      failedSockets: connected.failed,
      connectMs: connected.ms,
      samples,
      settling,
      rss: Object.fromEntries(
        SYSTEMS.map((system, k) => [
          system,
          servers[system].map((server, i) => ({
            name: server.name,
            before: rssBefore[k]![i]!,
            after: rssAfter[k]![i]!,
            perSocketKiB: (rssAfter[k]![i]! - rssBefore[k]![i]!) / (connected.sockets[system] / 2),
          })),
        ]),
      ) as SizeResult['rss'],
      cpu,
      idle,
      machineBusy,
      others: machineBusy - cpu.reduce((sum, c) => sum + (Number.isFinite(c.share) ? c.share : 0), 0),
      windowSeconds,
      clientElu,
      loadAfter: loadavg()[0]!,
    });
  }
  if (abort.signal.aborted) return;

  const body = report(results, probe, loadBefore, (Date.now() - started) / 60_000);
  console.log(`\n## bench:fanout\n\n${body}\n`);
  writeSection('bench:fanout', body);
  log('wrote docs/benchmarks.md (section "bench:fanout")');
}

// ---- the report ----------------------------------------------------------------------------

function report(results: SizeResult[], probe: ChangeStreamProbe, loadBefore: number, durationMinutes: number): string {
  const row = (label: string, values: number[]) => {
    const s = summarize(values);
    return `| ${label} | ${ms(s.p50)} | ${ms(s.p95)} | ${ms(s.p99)} | ${ms(s.max)} |`;
  };
  const ratioRow = (label: string, a: Summary, b: Summary) =>
    `| ${label} | ${times(a.p50 / b.p50)} | ${times(a.p95 / b.p95)} | ${times(a.p99 / b.p99)} | ${times(a.max / b.max)} |`;
  const totals = (samples: WriteSample[]) => samples.map((s) => s.total);
  const incomplete = (samples: WriteSample[]) => samples.filter((s) => !s.complete).length;

  const summary = [
    '| N | slotcast p50 / p95 / p99 / max ms | baseline p50 / p95 / p99 / max ms | ratio p50 | ratio p99 | RSS per socket KiB, hub-a / hub-b | RSS per socket KiB, bare 1 / bare 2 | machine CPU busy, of it not this bench (cores) |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  const verdicts: string[] = [];
  const sections: string[] = [];
  const whereTime: string[] = [];
  for (const r of results) {
    const hub = summarize(totals(r.samples.slotcast));
    const bare = summarize(totals(r.samples.baseline));
    const perSocket = (system: System) => r.rss[system].map((x) => fixed(x.perSocketKiB, 1)).join(' / ');
    const four = (s: Summary) => [s.p50, s.p95, s.p99, s.max].map(ms).join(' / ');
    summary.push(
      `| ${int(r.n)} | ${four(hub)} | ${four(bare)} | ${times(hub.p50 / bare.p50)} | ${times(hub.p99 / bare.p99)} | ${perSocket('slotcast')} | ${perSocket('baseline')} | ${fixed(r.machineBusy, 2)}, ${fixed(r.others, 2)} |`,
    );
    for (const [label, a, b] of [
      ['p50', hub.p50, bare.p50],
      ['p99', hub.p99, bare.p99],
    ] as const) {
      const ratio = a / b;
      verdicts.push(`- N = ${int(r.n)}, ratio ${label} at most ${RATIO_TARGET}: **${ratio <= RATIO_TARGET ? 'met' : 'MISSED'}** — ${times(ratio)} (slotcast ${ms(a)} ms, baseline ${ms(b)} ms).`);
    }
    if (r.n === P99_TARGET.n) {
      verdicts.push(`- N = ${int(r.n)}, write → last delivery p99 under ${P99_TARGET.ms} ms: **${hub.p99 < P99_TARGET.ms ? 'met' : 'MISSED'}** — ${ms(hub.p99)} ms.`);
    }

    const { slotcast, baseline } = r.samples;
    const fanoutHub = slotcast.map((s) => s.total - s.publish);
    const fanoutBare = baseline.map((s) => s.total - s.publish);
    {
      const p50 = (values: number[]) => percentile(values, 50);
      const step = (id: StepId, previous?: StepId) => p50(slotcast.map((s) => (s.steps ? s.steps[id] - (previous ? s.steps[previous] : 0) : Number.NaN)));
      const preEmit = p50(slotcast.map((s) => s.publish));
      const hubFanout = p50(fanoutHub);
      const bareFanout = p50(fanoutBare);
      const share = (prefix: string) => r.cpu.filter((c) => c.name.startsWith(prefix)).reduce((sum, c) => sum + c.share, 0);
      const leaderIdle = r.idle.find((c) => c.name.includes('(leader)'))?.share ?? Number.NaN;
      whereTime.push(
        `- N = ${int(r.n)} (p50s): ${ms(preEmit)} ms from the insert to the hub's emit — ${ms(step('feed'))} ms until the leader's feed has the change, ` +
          `${ms(step('stored', 'reads'))} ms for the MongoDB aggregation and the high-demand count (side by side), ${ms(step('published', 'stored'))} ms for the holders query and the emit, ` +
          `${ms(step('reads', 'feed'))} ms from the feed to the recompute's first read — then ${ms(hubFanout)} ms of Socket.IO fan-out ` +
          `(bare: ${ms(bareFanout)} ms after a ${ms(p50(baseline.map((s) => s.publish)))} ms IPC hop), about ${fixed((hubFanout / r.n) * 1000, 0)} µs per socket. ` +
          `The machine was ${fixed(r.machineBusy, 2)} of ${cpus().length} cores busy during the writes: client processes ${fixed(share('client'), 2)}, hubs ${fixed(share('hub'), 2)}, bare servers ${fixed(share('bare'), 2)}, mongo-java-server ${fixed(share('mongo'), 2)}; the idle leader alone used ${pct(leaderIdle)} of a core before any socket connected.`,
      );
    }
    const notDelivered = incomplete(slotcast) + incomplete(baseline);
    sections.push(
      `### N = ${int(r.n)} (${int(r.sockets.slotcast)} slotcast sockets, ${int(r.sockets.baseline)} bare; leader ${r.leader})`,
      '',
      `| ms, over ${WRITES} writes each | p50 | p95 | p99 | max |`,
      '| --- | ---: | ---: | ---: | ---: |',
      row('**slotcast: insert → last socket**', totals(slotcast)),
      row('**baseline: trigger → last socket**', totals(baseline)),
      ratioRow('ratio slotcast / baseline', hub, bare),
      row('slotcast: insert → adapter publish seen in Redis (feed, recompute, holders)', slotcast.map((s) => s.publish)),
      ...STEPS.map((step, i) =>
        row(
          `&nbsp;&nbsp;step: ${step.label}`,
          slotcast.map((s) => (s.steps ? s.steps[step.id] - (i === 0 ? 0 : s.steps[STEPS[i - 1]!.id]) : Number.NaN)),
        ),
      ),
      row('slotcast: adapter publish → last socket (Socket.IO fan-out)', fanoutHub),
      row('baseline: trigger → adapter publish seen in Redis (IPC hop)', baseline.map((s) => s.publish)),
      row('baseline: adapter publish → last socket (Socket.IO fan-out)', fanoutBare),
      ratioRow('fan-out only, slotcast / baseline', summarize(fanoutHub), summarize(fanoutBare)),
      ...SYSTEMS.flatMap((system) =>
        r.rss[system].map((server, i) =>
          row(`${system}: ${system === 'slotcast' ? 'insert' : 'trigger'} → last socket on ${server.name}`, r.samples[system].map((s) => s.lastByServer[i]!)),
        ),
      ),
      row('slotcast: first → last socket', slotcast.map((s) => s.total - s.firstSocket)),
      row('baseline: first → last socket', baseline.map((s) => s.total - s.firstSocket)),
      '',
      `- RSS (VmRSS, the least of ${RSS_SAMPLE.count} samples over ${RSS_SAMPLE.windowMs / 1000} s: idle after the warm-up → with ${int(r.n)} sockets connected and subscribed): ` +
        [...r.rss.slotcast, ...r.rss.baseline].map((x) => `${x.name} ${mib(x.before)} → ${mib(x.after)} MiB = **${fixed(x.perSocketKiB, 1)} KiB per socket**`).join('; ') +
        '.',
      `- CPU with no sockets and no writes (${IDLE_WINDOW_MS / 1000} s after start-up, before the warm-up), as a share of one core: ${r.idle.map((c) => `${c.name} ${pct(c.share)}`).join(', ')}.`,
      `- CPU over the ${fixed(r.windowSeconds, 1)} s of measured writes (both systems alternating), as a share of one core: ` +
        r.cpu.map((c) => `${c.name} ${pct(c.share)}`).join(', ') +
        `. The whole machine was ${fixed(r.machineBusy, 2)} of ${cpus().length} cores busy, ${fixed(r.others, 2)} cores of it by processes this bench did not start (and the kernel's network work not charged to a process).`,
      `- Client processes' event-loop utilisation over the same window: ${r.clientElu.map(pct).join(' / ')}.` +
        ` Connecting and subscribing the ${int(r.sockets.slotcast + r.sockets.baseline)} sockets took ${fixed(r.connectMs / 1000, 1)} s. 1-minute load average after this N: ${r.loadAfter.toFixed(2)}.`,
      `- The ${WARMUP.writes} warm-up writes right after the ${int(r.n)} sockets connected, not in the percentiles: ` +
        SYSTEMS.map((system) => `${system} ${r.settling[system].map((s) => ms(s.total)).join(', ')} ms`).join('; ') +
        '.',
      ...(r.failedSockets > 0 ? [`- Sockets that failed to connect or subscribe: ${r.failedSockets}.`] : []),
      ...(notDelivered > 0
        ? [
            `- **Writes not delivered to every socket within ${DELIVERY_TIMEOUT_MS / 1000} s: ${incomplete(slotcast)} (slotcast), ${incomplete(baseline)} (baseline)**; their latency counts up to the last socket that did get them.`,
          ]
        : []),
      '',
    );
  }

  return [
    `- Date: ${new Date().toISOString()}`,
    `- Machine: ${machine()}; 1-minute load average ${loadBefore.toFixed(2)} before the run. Everything shares these cores: two hub processes, two bare servers, ${CLIENT_PROCESSES} client processes, this bench process, redis-server, mongo-java-server (JVM), and whatever else runs on the machine (see "machine CPU busy").`,
    `- Setup: per N, two fresh hub processes (\`node --import tsx server/src/main.ts\`, multi-instance mode, COALESCE_MS=0, one database on mongo-java-server${process.env.MONGODB_URI ? ' from MONGODB_URI' : ''}, redis-server${process.env.REDIS_URL ? ' from REDIS_URL' : ''}) and two fresh bare Socket.IO 4 servers (bench/fanout/baseline-server.ts: \`new Server(httpServer)\` + \`@socket.io/redis-adapter\` on the same Redis, namespace /availability; 'subscribe' joins the room and acks \`{ ok: true }\`).` +
      ` ${CLIENT_PROCESSES} client processes (bench/fanout/client.ts, socket.io-client over WebSocket) hold N sockets on each system at once, a quarter each, half of every quarter on each instance; every socket subscribes to the channel \`availability.<today>\`. Sockets open ${CONNECT_CONCURRENCY * CLIENT_PROCESSES} at a time.`,
    `- What is timed: slotcast — from just before \`bookings.insertOne\` in the bench process to the moment the last of its N sockets receives the \`availability.updated\` whose \`booked\` is the new count (the leader hub's change stream → recompute → event log → Socket.IO emit, carried to the other hub by the Redis adapter). Baseline — from just before an IPC message tells bare server 1 to \`io.of('/availability').to(room).emit('availability.updated', payload)\` (payload: a real update's fields) to the last of its N sockets.` +
      ` Clock: \`performance.timeOrigin + performance.now()\` in every process of this one machine. Per N: a warm-up of ${WARMUP.socketsPerClient * CLIENT_PROCESSES} sockets per system and ${WARMUP.writes} writes per system, then the N sockets per system connect and ${WARMUP.writes} more warm-up rounds run (not counted; their times are listed under each N), then ${WRITES} rounds of one slotcast write and one baseline emit, alternating which goes first; each write waits until the previous one reached every socket, plus ${GAP_MS} ms.` +
      ` Percentiles are nearest-rank over ${WRITES} writes: p99 is the largest sample (the same as max), p95 the second largest.`,
    '- Not like for like: the slotcast path includes the MongoDB write, the change-stream round trip, a recompute (a MongoDB aggregation and Redis reads and writes), a high-demand count and a booking-holders query (MongoDB) before anything is emitted (the event-log append, Redis XADD, follows the emit); the baseline starts at the emit.' +
      ' The breakdown rows split the slotcast time: the "MongoDB alone" row is a bare change stream on the same collection in the bench process (how long the test database, mongo-java-server, takes to announce an insert); the "step" rows are the first Redis command of each stage of the leader\'s path, from Redis `MONITOR` (on during the measured writes); the adapter publish is seen by a Redis `PSUBSCRIBE` in the bench process, for both systems, so their pure fan-out can be compared.',
    '',
    summary.join('\n'),
    '',
    `RSS per socket: per instance, (RSS with N/2 sockets − RSS idle) / (N/2); the leader's figure is the less reliable one, because its idle RSS swings with the garbage of its change-stream polling (see "MongoDB alone"). "machine CPU busy" is the whole machine (${cpus().length} cores) during the measured writes, from /proc/stat; "not this bench" is what remains after the CPU of every process this run started (other work on the machine, and kernel network work not charged to a process).`,
    '',
    '### Targets',
    '',
    ...verdicts,
    '',
    `With ${WRITES} writes per system, p99 is the slowest single write, so one slow write decides a p99 verdict; compare runs before reading much into a p99 ratio near ${RATIO_TARGET}.`,
    '',
    '### Where the time goes',
    '',
    ...whereTime,
    '',
    '### MongoDB alone (mongo-java-server)',
    '',
    `Before any hub starts: ${WRITES} inserts into a scratch collection, each timed to its change event in a bare \`collection.watch()\` in the bench process (the machine otherwise as busy as the rest of the run makes it, minus this bench's servers and sockets).`,
    '',
    '| ms | p50 | p95 | p99 | max |',
    '| --- | ---: | ---: | ---: | ---: |',
    row('insert → change event', probe.latencies),
    '',
    `With the stream open and nothing written, this process used ${pct(probe.idleNode)} of a core and mongo-java-server ${pct(probe.idleJava)}: mongo-java-server answers a change stream's \`getMore\` at once instead of waiting up to \`maxAwaitTimeMS\` for data, so the driver asks again in a tight loop. The hub leader keeps three such streams open (bookings, sessions, overrides); its idle CPU is in each N's notes below. A MongoDB replica set blocks the \`getMore\`, so this cost belongs to the test database, not to slotcast, but on this 2-core machine it takes CPU from everything the run measures.`,
    '',
    ...sections,
    `Reproduce with \`npm run bench:fanout\` (this run took ${durationMinutes.toFixed(1)} minutes).`,
  ].join('\n');
}

try {
  await main();
} catch (error) {
  if (!abort.signal.aborted) {
    console.error('bench:fanout failed:', error);
    process.exitCode = 1;
  }
} finally {
  await cleanup();
}

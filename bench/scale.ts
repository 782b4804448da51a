/**
 * npm run bench:scale — the three measurements docs/scaling.md is built from; writes the
 * `## bench:scale` section of docs/benchmarks.md.
 *
 * 1. Redis traffic per broadcast, 4 instances, the date room on one of them: classic adapter
 *    against sharded (bench/scale/traffic.ts).
 * 2. The change-feed leader's sustained capacity over 1,000 keys, next to the wire server's own
 *    insert limit measured alone (bench/scale/capacity.ts).
 * 3. 1, 2 and 4 instances holding 10,000 sockets: deliveries per second, CPU per 1,000
 *    deliveries (bench/scale/instances.ts).
 *
 * Starts MongoDB (mongo-java-server) and redis-server through the dev-services helper and stops
 * everything it started, on success, failure or Ctrl-C. Quick trials only (the documented figures
 * use the defaults): BENCH_SCALE_PARTS (traffic,capacity,instances), BENCH_SCALE_SOCKETS (10000),
 * BENCH_SCALE_STEP_SECONDS (6), BENCH_SCALE_RATES (25,50,100,200,400,600,800,1200,1600).
 */
import { loadavg } from 'node:os';
import mongoose from 'mongoose';
import { withDatabase } from '../server/src/devservices/services.ts';
import { clearOplog, keepOplogFor } from '../server/src/devservices/oplog.ts';
import { cleanupRegistry, startBench } from './harness.ts';
import { machine, writeSection } from './report.ts';
import { measureTraffic, type AdapterKind, type InstanceTraffic } from './scale/traffic.ts';
import { DATES, SESSIONS, Watchers, runStep, seedKeys, wireServerLimit, type Step } from './scale/capacity.ts';
import { measureInstances, type Client, type InstancesResult } from './scale/instances.ts';
import { cpuSeconds, forkChild, spawnHub } from './fanout/processes.ts';
import type { ClientCommand, ClientReply } from './fanout/protocol.ts';

const PARTS = new Set((process.env.BENCH_SCALE_PARTS || 'traffic,capacity,instances').split(','));
const SOCKETS = Number(process.env.BENCH_SCALE_SOCKETS || 10_000);
const STEP_SECONDS = Number(process.env.BENCH_SCALE_STEP_SECONDS || 6);
const BROADCASTS = 1_000;
const RATES = (process.env.BENCH_SCALE_RATES || '25,50,100,200,400,600,800,1200,1600').split(',').map(Number);
const P99_TARGET_MS = 500;
const CAPACITY_SOCKETS = 2;
const RAW = { seconds: 4, concurrency: 16 };
const INSTANCE_COUNTS = [1, 2, 4];
const INSTANCE_WRITES = 40;
const CLIENT_PROCESSES = 4;
/** As `npm start` keeps its embedded wire server's (startup/instance.ts). */
const OPLOG_RETENTION_MS = 60_000;

/** A real update's shape (docs/api.md), about what the hub publishes per key. */
const PAYLOAD = {
  sessionId: '1fe34eacb71d0c6dce085605', date: '2026-12-02', name: 'Pilates', startTime: '10:00', endTime: '11:00', capacity: 24, booked: 15, held: 3,
  available: 6, utilization: 0.625, status: 'available', overbooked: false, version: 1796147630318000, updatedAt: '2026-12-01T17:53:50.329Z', reason: 'booking',
};

const { cleanup, onCleanup } = cleanupRegistry('bench:scale');
const int = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => (Number.isFinite(n) ? `${n.toFixed(0)} ms` : 'not delivered');
const load = () => loadavg().map((l) => l.toFixed(2)).join(' / ');

async function main(): Promise<void> {
  const { started, log, services, redisUrl } = await startBench(onCleanup);
  const date = new Date(started).toISOString().slice(0, 10);
  const sections: string[] = [];
  const hubEnv = (prefix: string) => (name: string) => ({
    PORT: '0', HOST: '127.0.0.1', MONGODB_URI: withDatabase(services.mongoUri, 'bench_scale'), REDIS_URL: redisUrl, REDIS_KEY_PREFIX: prefix,
    INSTANCE_ID: name, JWT_SECRET: 'x'.repeat(40), LOG_LEVEL: 'info',
  });

  if (PARTS.has('traffic')) {
    const loadAt = load();
    const results: Record<AdapterKind, InstanceTraffic[]> = { classic: [], sharded: [] };
    for (const kind of ['classic', 'sharded'] as const) {
      log(`traffic: ${BROADCASTS} broadcasts, ${kind} adapter…`);
      results[kind] = await measureTraffic(redisUrl, kind, PAYLOAD, BROADCASTS);
    }
    const rows = results.classic.map((c, i) => {
      const s = results.sharded[i]!;
      return `| ${c.instance} (${c.role}) | ${(c.messages / BROADCASTS).toFixed(2)} | ${int(c.subBytes / BROADCASTS)} | ${(s.messages / BROADCASTS).toFixed(2)} | ${int(s.subBytes / BROADCASTS)} |`;
    });
    const sum = (list: InstanceTraffic[]) => list.reduce((total, t) => total + t.subBytes, 0) / BROADCASTS;
    sections.push(
      [
        `### Redis traffic per broadcast (4 instances, the date room on one)`,
        '',
        `Load average at the start: ${loadAt}. ${int(BROADCASTS)} broadcasts of one availability update (${JSON.stringify(PAYLOAD).length} bytes of JSON) to room \`availability.${PAYLOAD.date}\`, emitted by instance 1; one socket, on instance 0, is in the room.`,
        '',
        '| instance | classic: messages received | classic: bytes received | sharded: messages received | sharded: bytes received |',
        '| --- | --- | --- | --- | --- |',
        ...rows,
        `| all four | ${(results.classic.reduce((t, c) => t + c.messages, 0) / BROADCASTS).toFixed(2)} | ${int(sum(results.classic))} | ${(results.sharded.reduce((t, c) => t + c.messages, 0) / BROADCASTS).toFixed(2)} | ${int(sum(results.sharded))} |`,
        '',
        `How it was measured: four plain Socket.IO 4 servers in one process, each with its own pub and sub ioredis connections to one redis-server ${'7.0'} (which serves SPUBLISH/SSUBSCRIBE without cluster mode); classic = \`createAdapter(pub, sub)\` (every instance PSUBSCRIBEs the namespace's channels), sharded = \`createShardedAdapter(pub, sub, { subscriptionMode: 'dynamic' })\` (an instance SSUBSCRIBEs a room's channel only while it has a socket in it). "Received" is read on each instance's **sub** connection: messages = ioredis \`message\`/\`pmessage\`/\`smessage\` events, bytes = the TCP socket's \`bytesRead\` (everything Redis sent, RESP framing and channel name included), before and after the broadcasts. The emitting instance's pub connection also receives a 4-byte integer reply per PUBLISH/SPUBLISH (${int(results.classic[1]!.pubBytes)} bytes for the ${int(BROADCASTS)}). Bytes are per broadcast; the sharded message carries the room in its channel name, hence its few more bytes.`,
      ].join('\n'),
    );
  }

  if (PARTS.has('capacity')) {
    const conn = await mongoose.createConnection(withDatabase(services.mongoUri, 'bench_scale')).asPromise();
    onCleanup(() => conn.close());
    await conn.dropDatabase();
    const loadAt = load();
    log(`capacity: the wire server alone, ${RAW.concurrency} inserts in flight for ${RAW.seconds} s…`);
    const raw = await wireServerLimit(conn, RAW.seconds, RAW.concurrency);
    log(`capacity: wire server alone ${int(raw)} inserts/s`);
    // mongo-java-server scans its whole oplog on every change-stream pull (devservices/oplog.ts):
    // the raw inserts must not slow the hub's stream, and the steps' own entries are trimmed as
    // `npm start` trims its embedded server's.
    await clearOplog(services.mongoUri);
    onCleanup(async () => stopTrim());
    const stopTrim = keepOplogFor(services.mongoUri, OPLOG_RETENTION_MS, (error) => console.error('oplog trim failed:', error));
    const keys = await seedKeys(conn);
    const hub = spawnHub('leader', hubEnv('bench-scale-capacity')('leader'));
    onCleanup(() => hub.stop());
    const url = `http://127.0.0.1:${await hub.port()}`;
    await hub.waitForLog((l) => l.msg === 'resynced the horizon', 60_000);
    const watchers = new Watchers();
    onCleanup(async () => watchers.close());
    await watchers.open(url, keys.channel, CAPACITY_SOCKETS);
    const counts = new Map<string, number>();
    const steps: (Step & { hubCores: number; wireCores: number })[] = [];
    const wirePid = services.wireServers[0]?.pid;
    for (const rate of RATES) {
      log(`capacity: ${rate} writes/s for ${STEP_SECONDS} s…`);
      const cpuBefore = [hub.pid, wirePid].map((pid) => (pid ? cpuSeconds(pid) : Number.NaN));
      const stepStart = performance.now();
      const step = await runStep(conn, keys, watchers, counts, rate, STEP_SECONDS);
      const stepSeconds = (performance.now() - stepStart) / 1000;
      const [hubCores, wireCores] = [hub.pid, wirePid].map((pid, i) => (pid ? (cpuSeconds(pid) - cpuBefore[i]!) / stepSeconds : Number.NaN));
      steps.push({ ...step, hubCores: hubCores!, wireCores: wireCores! });
      log(`  achieved ${step.achieved.toFixed(0)}/s, p50 ${ms(step.p50)}, p99 ${ms(step.p99)}, delivered ${step.delivered}/${step.writes}`);
      if (step.p99 > P99_TARGET_MS || step.achieved < 0.9 * rate) break;
    }
    watchers.close();
    await hub.stop();
    const sustained = steps.filter((s) => s.p99 <= P99_TARGET_MS && s.achieved >= 0.9 * s.target).at(-1);
    sections.push(
      [
        '### The leader\'s sustained capacity (bookings over 1,000 keys)',
        '',
        `Load average at the start: ${loadAt}; at the end: ${load()}.`,
        '',
        `- The wire server alone (no hub running, ${RAW.concurrency} inserts in flight, ${RAW.seconds} s): **${int(raw)} inserts/s**.`,
        `- One hub (the leader, defaults, Redis), ${CAPACITY_SOCKETS} sockets on \`availability.range\` over the ${DATES} dates; bookings round-robin over ${SESSIONS} sessions x ${DATES} dates = 1,000 keys, ${STEP_SECONDS} s per rate, rates raised until write → last socket p99 passed ${P99_TARGET_MS} ms or the inserts could not keep the rate. Highest rate held: **${sustained ? `${int(sustained.achieved)} writes/s` : 'none'}**.`,
        '',
        '| offered writes/s | achieved | writes | p50 write → last socket | p99 | max | leader hub cores | wire server cores |',
        '| --- | --- | --- | --- | --- | --- | --- | --- |',
        ...steps.map((s) => `| ${int(s.target)} | ${int(s.achieved)} | ${int(s.writes)} | ${ms(s.p50)} | ${ms(s.p99)} | ${ms(s.max)} | ${s.hubCores.toFixed(2)} | ${s.wireCores.toFixed(2)} |`),
        '',
        `Timed from just before each \`insertOne\` (bench process, up to 64 in flight) to the moment the last socket holds an update of that key whose \`booked\` is at least the count the write made (with COALESCE_MS = 50 one update may carry several writes of a key); a write not delivered within 5 s of the step's end counts as not delivered. The sockets live in the bench process, which also does the inserts. Each write to a key recomputes that key (a MongoDB aggregation, Redis reads and writes) on the leader; 1,000 keys keep coalescing rare at these rates.`,
      ].join('\n'),
    );
  }

  if (PARTS.has('instances')) {
    const conn = await mongoose.createConnection(withDatabase(services.mongoUri, 'bench_scale')).asPromise();
    onCleanup(() => conn.close());
    const loadAt = load();
    const clients: Client[] = Array.from({ length: CLIENT_PROCESSES }, () => forkChild<ClientCommand, ClientReply>('./client.ts', { execArgv: ['--max-old-space-size=4096'] }));
    for (const client of clients) onCleanup(() => client.stop({ op: 'exit' }));
    const results: InstancesResult[] = [];
    for (const instances of INSTANCE_COUNTS) {
      log(`instances: ${instances} hub(s), ${int(SOCKETS)} sockets…`);
      const result = await measureInstances({ instances, sockets: SOCKETS, writes: INSTANCE_WRITES, clients, conn, hubEnv: hubEnv(`bench-scale-${instances}`), onCleanup, log });
      results.push(result);
      log(`  ${int(result.deliveriesPerSecond)} deliveries/s, ${result.cpuMsPer1000.toFixed(1)} ms CPU per 1,000, ${result.kibPerSocket.toFixed(1)} KiB per socket`);
    }
    sections.push(
      [
        '### 1, 2 and 4 instances holding 10,000 sockets',
        '',
        `Load average at the start: ${loadAt}; at the end: ${load()}.`,
        '',
        '| instances | sockets | writes | deliveries/s | hub CPU per 1,000 deliveries | hub cores busy | RSS per socket (sum over hubs) | p99 write → last socket |',
        '| --- | --- | --- | --- | --- | --- | --- | --- |',
        ...results.map((r) => `| ${r.instances} | ${int(r.sockets)} | ${r.writes} | ${int(r.deliveriesPerSecond)} | ${r.cpuMsPer1000.toFixed(1)} ms | ${r.hubCores.toFixed(2)} | ${r.kibPerSocket.toFixed(1)} KiB | ${ms(r.p99Ms)} |`),
        '',
        `The sockets (WebSocket, ${CLIENT_PROCESSES} client processes of bench/fanout/client.ts, spread evenly over the instances) are all on \`availability.{today}\`. Four pipelines, one per session of that date, each insert a booking and wait until it reached every socket before the next; ${INSTANCE_WRITES} measured writes after 8 warm-up ones, so a delivery rate is bound by the write → last socket time as much as by the hubs. CPU is user + system time of the hub processes (/proc, all of them summed, the leader included) over the measured writes; RSS per socket is the hubs' resident memory after the sockets connected minus before, over the sockets. Clients, MongoDB and Redis run on the same 2 cores and are not counted.`,
      ].join('\n'),
    );
  }

  const body = [
    `Machine: ${machine()}. Date: ${date}. Load averages (1 / 5 / 15 min) are given per table: the bench, its hubs, MongoDB and Redis share these cores.`,
    '',
    'Run: `npm run bench:scale` (MongoDB is mongo-java-server, the test and development database; Redis 7.0, one redis-server). Hubs run with default settings (COALESCE_MS 50, LEADER_LEASE_MS 1500) plus REDIS_URL.',
    '',
    ...sections.flatMap((s) => [s, '']),
  ].join('\n');
  if (PARTS.size === 3) writeSection('bench:scale', body);
  else console.log(body);
  log('done');
}

main()
  .catch((error: unknown) => {
    console.error('bench:scale failed:', error);
    process.exitCode = 1;
  })
  .finally(() => cleanup());

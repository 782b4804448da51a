/**
 * npm run bench:api — the tRPC control plane's read queries, cached against uncached, in one run.
 *
 * Starts MongoDB (mongo-java-server) and redis-server through the dev-services helper (or uses
 * MONGODB_URI / REDIS_URL), seeds 30 days of demo data, starts four hubs in this process on the
 * same database (Redis cache, the same without the fast query path, in-memory cache, no cache) and drives each with plain HTTP GETs
 * from a worker thread. Prints a markdown table and writes the `## bench:api` section of
 * docs/benchmarks.md.
 *
 * Tuning (for quick trials only; the documented figures use the defaults):
 * BENCH_CONCURRENCY (200), BENCH_WARMUP_MS (1000), BENCH_DURATION_MS (5000).
 */
import { pino } from 'pino';
import { addDays, type IsoDate } from '@slotcast/shared';
import { withDatabase } from '../server/src/devservices/services.ts';
import { seedDemoData, type SeedResult } from '../server/src/db/seed.ts';
import { loadConfig } from '../server/src/config/env.ts';
import { startHub, type Hub } from '../server/src/hub.ts';
import { NoSnapshotCache } from '../tests/support/seams.ts';
import { cleanupRegistry, startBench } from './harness.ts';
import { runLoad, statsOf, type CaseStats } from './load.ts';
import { machine, writeSection } from './report.ts';

const envNumber = (name: string, fallback: number) => {
  const value = Number(process.env[name] || fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
};
const CONCURRENCY = envNumber('BENCH_CONCURRENCY', 200);
const WARMUP_MS = envNumber('BENCH_WARMUP_MS', 1_000);
const DURATION_MS = envNumber('BENCH_DURATION_MS', 5_000);
/** The low-concurrency probe: service time without 200 requests queued in front of it. */
const PROBE = { concurrency: [1, 10], warmupMs: 500, durationMs: 2_000 };

const SEED = { firstDay: -7, days: 30 };
const P99_TARGET_MS = 5;
const RATIO_TARGET = 10;

type Mode = 'redis' | 'adapter' | 'memory' | 'uncached';
const MODE_LABEL: Record<Mode, string> = {
  redis: 'cached (Redis)',
  adapter: 'cached (Redis), tRPC adapter only',
  memory: 'cached (in-memory)',
  uncached: 'uncached',
};

interface Query {
  name: string;
  paths: string[];
}

interface Row {
  query: string;
  mode: Mode;
  concurrency: number;
  stats: CaseStats;
  drained: boolean;
  /** Recomputes from MongoDB during the case, warm-up included (cached hubs: cache misses). */
  recomputes: number;
}

/** How many recomputes (MongoDB reads for availability) a hub has made, from its own metrics. */
async function recomputesOf(hub: Hub): Promise<number> {
  const { values } = await hub.metrics.recomputeSeconds.get();
  return values.filter((v) => v.metricName === 'slotcast_recompute_seconds_count').reduce((sum, v) => sum + v.value, 0);
}

const trpcPath = (procedure: string, input: unknown) =>
  `/trpc/availability.${procedure}?input=${encodeURIComponent(JSON.stringify(input))}`;

function queriesFor(today: IsoDate): Query[] {
  const first = addDays(today, SEED.firstDay);
  const offsets = (count: number) => Array.from({ length: count }, (_, i) => addDays(first, i));
  // Every seeded date, and every 7-day window inside the seeded 30 days; the 30-day range is all of them.
  return [
    { name: 'byDate', paths: offsets(SEED.days).map((date) => trpcPath('byDate', { date })) },
    {
      name: 'byDateRange 7 d',
      paths: offsets(SEED.days - 6).map((from) => trpcPath('byDateRange', { from, to: addDays(from, 6) })),
    },
    { name: 'byDateRange 30 d', paths: [trpcPath('byDateRange', { from: first, to: addDays(first, SEED.days - 1) })] },
  ];
}

/** One parsed answer: checks the status and that tRPC returned data, and gives it for comparison. */
async function fetchData(hub: Hub, path: string): Promise<unknown> {
  const response = await fetch(`http://127.0.0.1:${hub.port}${path}`);
  const text = await response.text();
  if (response.status !== 200) throw new Error(`${path}: HTTP ${response.status} ${text.slice(0, 300)}`);
  const body = JSON.parse(text) as { result?: { data?: unknown } };
  if (!Array.isArray(body.result?.data) || body.result.data.length === 0) {
    throw new Error(`${path}: no rows in ${text.slice(0, 300)}`);
  }
  return body.result.data;
}

/** The figures without the fields each recompute changes (version, updatedAt). */
const comparable = (data: unknown) => JSON.stringify(data, (key, value: unknown) => (key === 'version' || key === 'updatedAt' ? undefined : value));

const fixed = (value: number, digits: number) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
const ms = (value: number) => fixed(value, value >= 100 ? 0 : value >= 10 ? 1 : 2);
const pct = (value: number) => (Number.isFinite(value) ? `${Math.round(value * 100)}%` : 'n/a');
const int = (value: number) => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : 'n/a');

function table(rows: Row[]): string {
  const lines = [
    '| query | hub | in flight | requests | errors | req/s | p50 ms | p95 ms | p99 ms | max ms | recomputes | hub loop busy | client loop busy |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const { query, mode, concurrency, stats, drained, recomputes } of rows) {
    lines.push(
      `| ${query} | ${MODE_LABEL[mode]} | ${concurrency} | ${int(stats.requests)} | ${int(stats.errors)}${drained ? '' : ' (undrained)'} | ${int(stats.rps)} | ${ms(stats.p50)} | ${ms(stats.p95)} | ${ms(stats.p99)} | ${ms(stats.max)} | ${int(recomputes)} | ${pct(stats.serverBusy)} | ${pct(stats.clientBusy)} |`,
    );
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------

const { abort, cleanup, onCleanup } = cleanupRegistry('bench:api');

async function measure(hub: Hub, query: Query, concurrency: number, warmupMs: number, durationMs: number) {
  const before = await recomputesOf(hub);
  const result = await runLoad(
    { host: '127.0.0.1', port: hub.port, paths: query.paths, concurrency, warmupMs, durationMs },
    abort.signal,
  );
  if (result.sockets !== concurrency) console.error(`  only ${result.sockets} of ${concurrency} connections were open when the clock started`);
  if (result.errorSamples.length > 0) console.error(`  errors, for example: ${result.errorSamples.join(' | ')}`);
  return { stats: statsOf(result), drained: result.drained, recomputes: (await recomputesOf(hub)) - before };
}

async function main(): Promise<void> {
  const { loadBefore, log, services } = await startBench(onCleanup);

  const logger = pino({ level: 'silent' });
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    MONGODB_URI: withDatabase(services.mongoUri, 'bench_api'),
    REDIS_URL: services.redisUrl,
    REDIS_KEY_PREFIX: 'bench-cached',
    JWT_SECRET: 'x'.repeat(40),
    LOG_LEVEL: 'silent',
    // One load generator is one client: a per-client rate limit would measure the limiter, not the queries.
    TRPC_RATE_LIMIT_REQUESTS: '0',
  });
  const hubs = {} as Record<Mode, Hub>;
  const start = async (mode: Mode, promise: Promise<Hub>) => {
    const hub = await promise;
    onCleanup(() => hub.stop());
    hubs[mode] = hub;
  };
  // Reads only: without change feeds, the seed's 7,521 inserts neither compete with the measurement
  // nor leave a hub's cache mid-catch-up when the three are compared below.
  const reads = { changeFeed: false };
  await start('redis', startHub(config, logger, { seams: reads }));
  // The same cache without the fast path for plain GET queries: what it saves.
  await start('adapter', startHub(config, logger, { seams: { ...reads, fastQueries: false } }));
  await start('uncached', startHub({ ...config, REDIS_KEY_PREFIX: 'bench-uncached' }, logger, { seams: { ...reads, snapshotCache: () => new NoSnapshotCache() } }));
  await start('memory', startHub({ ...config, REDIS_URL: undefined }, logger, { seams: reads }));

  log('seeding…');
  const seed: SeedResult = await seedDemoData(hubs.redis.database.models, SEED);
  const today = hubs.redis.reads.today();
  const first = addDays(today, SEED.firstDay);
  const last = addDays(first, SEED.days - 1);
  // A REDIS_URL from the environment may hold an older run's snapshots under this prefix: recompute them all.
  await hubs.redis.writes.refresh({ from: first, to: last });
  log(`seeded ${seed.sessions} sessions, ${seed.overrides} overrides, ${seed.bookings} bookings (${first} .. ${last})`);

  const queries = queriesFor(today);
  const modes: Mode[] = ['redis', 'adapter', 'memory', 'uncached'];

  // Sanity: every hub answers every query shape, and the three agree on the figures.
  for (const query of queries) {
    const path = query.paths[Math.floor(query.paths.length / 2)]!;
    const answers = await Promise.all(modes.map((mode) => fetchData(hubs[mode], path)));
    const reference = comparable(answers[modes.indexOf('uncached')]);
    for (const [i, answer] of answers.entries()) {
      if (comparable(answer) !== reference) throw new Error(`${MODE_LABEL[modes[i]!]} disagrees with uncached on ${path}`);
    }
  }
  log('all four hubs give the same answers');

  // Fill both caches one request at a time, so the cached cases measure hits, not a herd of misses.
  for (const mode of ['redis', 'memory'] as const) {
    for (const query of queries) for (const path of query.paths) await fetchData(hubs[mode], path);
  }

  const rows: Row[] = [];
  for (const query of queries) {
    for (const mode of modes) {
      log(`${query.name}, ${MODE_LABEL[mode]}, ${CONCURRENCY} in flight: ${WARMUP_MS} ms warm-up + ${DURATION_MS} ms…`);
      const { stats, drained, recomputes } = await measure(hubs[mode], query, CONCURRENCY, WARMUP_MS, DURATION_MS);
      rows.push({ query: query.name, mode, concurrency: CONCURRENCY, stats, drained, recomputes });
    }
  }
  const probes: Row[] = [];
  for (const concurrency of PROBE.concurrency) {
    for (const mode of ['redis', 'memory'] as const) {
      log(`probe: byDate, ${MODE_LABEL[mode]}, ${concurrency} in flight…`);
      const { stats, drained, recomputes } = await measure(hubs[mode], queries[0]!, concurrency, PROBE.warmupMs, PROBE.durationMs);
      probes.push({ query: 'byDate', mode, concurrency, stats, drained, recomputes });
    }
  }

  // Cold cache: the same burst of byDate requests for one date nobody has read yet (outside the seed).
  const herd: { mode: Mode; requests: number; recomputes: number; ms: number }[] = [];
  for (const [i, mode] of (['redis', 'memory'] as const).entries()) {
    const path = trpcPath('byDate', { date: addDays(last, 10 + i) });
    const before = await recomputesOf(hubs[mode]);
    const t0 = process.hrtime.bigint();
    await Promise.all(Array.from({ length: CONCURRENCY }, () => fetchData(hubs[mode], path)));
    const elapsed = Number(process.hrtime.bigint() - t0) / 1e6;
    herd.push({ mode, requests: CONCURRENCY, recomputes: (await recomputesOf(hubs[mode])) - before, ms: elapsed });
  }
  log(`cold burst: ${herd.map((h) => `${MODE_LABEL[h.mode]} ${h.recomputes} recomputes for ${h.requests} requests`).join(', ')}`);

  // ---- verdicts -----------------------------------------------------------------------------
  const find = (query: string, mode: Mode) => rows.find((row) => row.query === query && row.mode === mode)!.stats;
  const ratios = queries.map((query) => {
    const uncached = find(query.name, 'uncached').rps;
    return {
      query: query.name,
      redis: find(query.name, 'redis').rps / uncached,
      memory: find(query.name, 'memory').rps / uncached,
    };
  });
  const ratioText = (value: number) => (Number.isFinite(value) ? `${value.toFixed(1)}x` : 'n/a');
  const totalErrors = [...rows, ...probes].reduce((sum, row) => sum + row.stats.errors, 0);
  const cachedByDate = find('byDate', 'redis');
  const worstRatio = ratios.reduce((worst, r) => (r.redis < worst.redis ? r : worst));
  const ratioMet = ratios.every((r) => r.redis >= RATIO_TARGET);
  const p99Met = cachedByDate.p99 < P99_TARGET_MS;
  const requiredRps = CONCURRENCY / (P99_TARGET_MS / 1000);

  const ratioLines = ratios.map(
    (r) => `- ${r.query}: Redis-cached ${ratioText(r.redis)} the uncached throughput (in-memory cache: ${ratioText(r.memory)}).`,
  );
  const verdicts = [
    `- Cached throughput at least ${RATIO_TARGET}x uncached: **${ratioMet ? 'met' : 'MISSED'}** — ` +
      (ratioMet
        ? `the lowest ratio is ${ratioText(worstRatio.redis)} (${worstRatio.query}).`
        : `${ratios.filter((r) => r.redis < RATIO_TARGET).map((r) => `${r.query} reached only ${ratioText(r.redis)}`).join('; ')}.`),
    `- Cached byDate p99 under ${P99_TARGET_MS} ms (Redis cache, ${CONCURRENCY} in flight): **${p99Met ? 'met' : 'MISSED'}** — ` +
      `p99 is ${ms(cachedByDate.p99)} ms at ${int(cachedByDate.rps)} req/s.` +
      (p99Met
        ? ''
        : ` With ${CONCURRENCY} requests always in flight, mean latency is ${CONCURRENCY} / throughput (Little's law), so a p99 under ${P99_TARGET_MS} ms needs more than ${int(requiredRps)} req/s from one hub process;` +
          ` the low-concurrency probe below shows the time per request without that queue.`),
    `- Errors (failed or non-200 answers, warm-up included): ${int(totalErrors)}.`,
  ];

  const body = [
    `- Date: ${new Date().toISOString()}`,
    `- Machine: ${machine()}; 1-minute load average ${loadBefore.toFixed(2)} before the run (the hubs, the load generator, redis-server and mongo-java-server share these cores).`,
    `- Seed: \`seedDemoData({ firstDay: ${SEED.firstDay}, days: ${SEED.days} })\` — ${seed.sessions} sessions, ${seed.overrides} overrides, ${seed.bookings.toLocaleString('en-US')} bookings, dates ${first} .. ${last}.`,
    `- Setup: four hubs in one process on one database (mongo-java-server${process.env.MONGODB_URI ? ' from MONGODB_URI' : ''}, redis-server${process.env.REDIS_URL ? ' from REDIS_URL' : ''}), TIMEZONE UTC:` +
      ` Redis cache (multi-instance mode), the same Redis cache with the \`fastQueries: false\` seam (every request through tRPC's standalone adapter; the other hubs answer plain GET queries through tRPC's \`callTRPCProcedure\`, \`server/src/api/fast-queries.ts\`), in-memory cache (no REDIS_URL), and a snapshot cache that holds nothing (\`NoSnapshotCache\`: every read aggregates MongoDB).` +
      ` The load generator runs in a worker thread of the same process: ${CONCURRENCY} loops on a keep-alive \`http.Agent\` (maxSockets ${CONCURRENCY}), each keeping one GET in flight; all ${CONCURRENCY} connections are opened (GET /healthz) before the clock starts;` +
      ` bodies are drained, not parsed. Each case: ${WARMUP_MS / 1000} s warm-up, then ${DURATION_MS / 1000} s measured; latency is from request to the end of the body (\`process.hrtime.bigint\`).`,
    `- Requests: unbatched tRPC GETs. byDate cycles through all ${SEED.days} seeded dates; byDateRange 7 d through every 7-day window inside them; byDateRange 30 d is the whole seeded range.`,
    '',
    table(rows),
    '',
    '"recomputes" counts MongoDB recomputes during the case, warm-up included, from the hub\'s own metrics: 0 on a cached row means every answer came from the cache (both caches were filled one request at a time before the cases).' +
      ' "hub loop busy" and "client loop busy" are the event-loop utilisation of the hubs\' thread and of the load generator\'s thread over the measured window.',
    '',
    '### Cached / uncached throughput',
    '',
    ...ratioLines,
    '',
    '### Targets',
    '',
    ...verdicts,
    '',
    `### Low-concurrency probe (byDate, ${PROBE.warmupMs / 1000} s warm-up + ${PROBE.durationMs / 1000} s)`,
    '',
    table(probes),
    '',
    `### Cold cache burst`,
    '',
    ...herd.map(
      (h) =>
        `- ${MODE_LABEL[h.mode]}: ${h.requests} concurrent byDate requests for one date not yet cached made ${int(h.recomputes)} recompute${h.recomputes === 1 ? '' : 's'} (all answered in ${ms(h.ms)} ms): ${
          h.recomputes <= 1 ? 'concurrent misses on the same key share one fill.' : `one would do: ${int(h.recomputes - 1)} concurrent misses on the same key were not merged.`
        }`,
    ),
    '',
    'Reproduce with `npm run bench:api` (about a minute and a half).',
  ].join('\n');

  console.log(`\n## bench:api\n\n${body}\n`);
  writeSection('bench:api', body);
  log('wrote docs/benchmarks.md (section "bench:api")');
}

try {
  await main();
} catch (error) {
  if (!abort.signal.aborted) {
    console.error('bench:api failed:', error);
    process.exitCode = 1;
  }
} finally {
  await cleanup();
}

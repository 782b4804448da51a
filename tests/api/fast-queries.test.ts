import { beforeAll, describe, expect, it } from 'vitest';
import { MON, SAT, SUN, id, ids, writeFixture } from '../support/fixture.ts';
import { startTestHub, type TestHub } from '../support/hub.ts';
import { testDatabaseUri } from '../support/database.ts';

// Two hubs on one database and one Redis cache: one answers plain queries on the fast path, the
// other only through tRPC's adapter. Every answer must be the same, byte for byte.
let fast: TestHub;
let adapter: TestHub;
let staffToken: string;

beforeAll(async () => {
  const mongoUri = testDatabaseUri();
  fast = await startTestHub({ redis: true, mongoUri, seams: { changeFeed: false } });
  adapter = await startTestHub({ redis: true, mongoUri, seams: { changeFeed: false, fastQueries: false }, env: { REDIS_KEY_PREFIX: fast.config.REDIS_KEY_PREFIX } });
  await writeFixture(fast.hub.database.models);
  staffToken = await fast.token('staff-1', ['staff']);
});

const query = (path: string, input?: unknown) => `/trpc/${path}${input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify(input))}`}`;

async function answer(hub: TestHub, path: string, headers: Record<string, string> = {}) {
  const response = await fetch(`http://127.0.0.1:${hub.hub.port}${path}`, { headers });
  return { status: response.status, type: response.headers.get('content-type'), vary: response.headers.get('vary'), body: await response.text() };
}

async function fastCount(): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${fast.hub.port}/metrics`)).text();
  return Number(/^slotcast_trpc_fast_queries_total\{[^}]*\} (\d+)/m.exec(text)?.[1] ?? 0);
}

const range = { from: SAT, to: MON };
const cases: { name: string; path: string; headers?: Record<string, string>; fastPath: boolean }[] = [
  { name: 'byDate', path: query('availability.byDate', { date: SAT }), fastPath: true },
  { name: 'byDateRange', path: query('availability.byDateRange', range), fastPath: true },
  { name: 'byDateRange for a session', path: query('availability.byDateRange', { ...range, sessionId: id(ids.swim) }), fastPath: true },
  { name: 'bySession', path: query('availability.bySession', { sessionId: id(ids.spin), date: SUN }), fastPath: true },
  { name: 'stats (staff)', path: query('availability.stats', range), headers: { authorization: 'staff' }, fastPath: true },
  { name: 'trends (staff)', path: query('availability.trends', range), headers: { authorization: 'staff' }, fastPath: true },
  { name: 'peakHours (staff)', path: query('availability.peakHours', { ...range, limit: 2 }), headers: { authorization: 'staff' }, fastPath: true },
  { name: 'a malformed date', path: query('availability.byDate', { date: '2025-02-30' }), fastPath: false },
  { name: 'input that is not JSON', path: '/trpc/availability.byDate?input=%7B', fastPath: false },
  { name: 'no input', path: '/trpc/availability.byDate', fastPath: false },
  { name: 'a session that does not run', path: query('availability.bySession', { sessionId: id(ids.inactive), date: SAT }), fastPath: false },
  { name: 'stats without a token', path: query('availability.stats', range), fastPath: false },
  { name: 'a forged token', path: query('availability.byDate', { date: SAT }), headers: { authorization: 'Bearer not.a.token' }, fastPath: false },
  { name: 'an unknown procedure', path: query('availability.nope', { date: SAT }), fastPath: false },
  { name: 'a mutation as GET', path: query('availability.refresh', {}), fastPath: false },
  { name: 'a batch', path: `/trpc/availability.byDate,availability.byDate?batch=1&input=${encodeURIComponent(JSON.stringify({ 0: { date: SAT }, 1: { date: SUN } }))}`, fastPath: false },
  { name: 'a streamed batch', path: `/trpc/availability.byDate?batch=1&input=${encodeURIComponent(JSON.stringify({ 0: { date: SAT } }))}`, headers: { 'trpc-accept': 'application/jsonl' }, fastPath: false },
];

describe('plain GET queries on the fast path', () => {
  it.each(cases)('$name: the same answer as the adapter', async ({ path, headers = {}, fastPath }) => {
    const sent = headers.authorization === 'staff' ? { ...headers, authorization: `Bearer ${staffToken}` } : headers;
    await answer(adapter, path, sent); // fills the shared cache first, so both read the same versions
    const before = await fastCount();
    const viaFast = await answer(fast, path, sent);
    expect(await fastCount()).toBe(before + (fastPath ? 1 : 0));
    expect(viaFast).toEqual(await answer(adapter, path, sent));
  });
});

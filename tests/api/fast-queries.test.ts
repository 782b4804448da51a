import { beforeAll, describe, expect, it } from 'vitest';
import { MON, SAT, SUN, id, ids, writeFixture } from '../support/fixture.ts';
import { startTestHub, type TestHub } from '../support/hub.ts';
import { testDatabaseUri } from '../support/database.ts';
import { MUTATION_PATHS, QUERY_PATHS, SUBSCRIPTION_PATHS } from '../../server/src/api/procedures.ts';

// Two hubs on one database and one Redis cache: one answers plain queries on the fast path, the
// other only through tRPC's adapter. Every answer must be the same, byte for byte.
let fast: TestHub;
let adapter: TestHub;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  const mongoUri = testDatabaseUri();
  fast = await startTestHub({ redis: true, mongoUri, seams: { changeFeed: false } });
  adapter = await startTestHub({ redis: true, mongoUri, seams: { changeFeed: false, fastQueries: false }, env: { REDIS_KEY_PREFIX: fast.config.REDIS_KEY_PREFIX } });
  await writeFixture(fast.hub.database.models);
  tokens.staff = `Bearer ${await fast.token('staff-1', ['staff'])}`;
  tokens.user = `Bearer ${await fast.token('user-1')}`;
});

const query = (path: string, input?: unknown) => `/trpc/${path}${input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify(input))}`}`;

async function answer(hub: TestHub, path: string, headers: Record<string, string> = {}) {
  const response = await fetch(`http://127.0.0.1:${hub.hub.port}${path}`, { headers });
  const header = (name: string) => response.headers.get(name);
  return { status: response.status, type: header('content-type'), vary: header('vary'), allow: header('allow'), retryAfter: header('retry-after'), body: await response.text() };
}

/** A counter's total over all its label sets, from the hub's /metrics. */
async function counter(hub: TestHub, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${hub.hub.port}/metrics`)).text();
  return [...text.matchAll(new RegExp(`^${name}\\{[^}]*\\} (\\d+)`, 'gm'))].reduce((sum, match) => sum + Number(match[1]), 0);
}

const range = { from: SAT, to: MON };
const batch = (paths: string, inputs: unknown) => `/trpc/${paths}?batch=1&input=${encodeURIComponent(JSON.stringify(inputs))}`;

/** `runs`: how many procedure calls the request makes; a query that fails on the fast path must not run again. */
const cases: { name: string; path: string; token?: 'staff' | 'user'; headers?: Record<string, string>; fastPath: boolean; runs: number; status: number }[] = [
  { name: 'byDate', path: query('availability.byDate', { date: SAT }), fastPath: true, runs: 1, status: 200 },
  { name: 'byDateRange', path: query('availability.byDateRange', range), fastPath: true, runs: 1, status: 200 },
  { name: 'byDateRange for a session', path: query('availability.byDateRange', { ...range, sessionId: id(ids.swim) }), fastPath: true, runs: 1, status: 200 },
  { name: 'bySession', path: query('availability.bySession', { sessionId: id(ids.spin), date: SUN }), fastPath: true, runs: 1, status: 200 },
  { name: 'stats (staff)', path: query('availability.stats', range), token: 'staff', fastPath: true, runs: 1, status: 200 },
  { name: 'trends (staff)', path: query('availability.trends', range), token: 'staff', fastPath: true, runs: 1, status: 200 },
  { name: 'peakHours (staff)', path: query('availability.peakHours', { ...range, limit: 2 }), token: 'staff', fastPath: true, runs: 1, status: 200 },
  // Errors are answered on the fast path too, in the adapter's shape and status.
  { name: 'BAD_REQUEST: a malformed date', path: query('availability.byDate', { date: '2025-02-30' }), fastPath: true, runs: 1, status: 400 },
  { name: 'BAD_REQUEST: an unknown key', path: query('availability.byDate', { date: SAT, extra: 1 }), fastPath: true, runs: 1, status: 400 },
  { name: 'BAD_REQUEST: a range too long', path: query('availability.byDateRange', { from: SAT, to: '2027-05-30' }), fastPath: true, runs: 1, status: 400 },
  { name: 'BAD_REQUEST: input that is not JSON', path: '/trpc/availability.byDate?input=%7B', fastPath: true, runs: 1, status: 400 },
  { name: 'BAD_REQUEST: no input', path: '/trpc/availability.byDate', fastPath: true, runs: 1, status: 400 },
  { name: 'BAD_REQUEST: an empty input', path: '/trpc/availability.byDate?input=', fastPath: true, runs: 1, status: 400 },
  { name: 'NOT_FOUND: a session that does not run', path: query('availability.bySession', { sessionId: id(ids.inactive), date: SAT }), fastPath: true, runs: 1, status: 404 },
  { name: 'NOT_FOUND: an unknown session', path: query('availability.bySession', { sessionId: ids.unknown, date: SAT }), fastPath: true, runs: 1, status: 404 },
  { name: 'NOT_FOUND: trends of an unknown session', path: query('availability.trends', { ...range, sessionId: ids.unknown }), token: 'staff', fastPath: true, runs: 1, status: 404 },
  { name: 'UNAUTHORIZED: stats without a token', path: query('availability.stats', range), fastPath: true, runs: 1, status: 401 },
  { name: 'UNAUTHORIZED: a forged token', path: query('availability.byDate', { date: SAT }), headers: { authorization: 'Bearer not.a.token' }, fastPath: true, runs: 1, status: 401 },
  { name: 'UNAUTHORIZED: not a bearer header', path: query('availability.byDate', { date: SAT }), headers: { authorization: 'Basic abc' }, fastPath: true, runs: 1, status: 401 },
  { name: 'FORBIDDEN: stats without a role', path: query('availability.stats', range), token: 'user', fastPath: true, runs: 1, status: 403 },
  { name: 'UNAUTHORIZED before bad input', path: query('availability.stats', { from: 'x' }), fastPath: true, runs: 1, status: 401 },
  // The adapter's own cases.
  { name: 'an unknown procedure', path: query('availability.nope', { date: SAT }), fastPath: false, runs: 0, status: 404 },
  { name: 'a mutation as GET', path: query('availability.refresh', {}), fastPath: false, runs: 0, status: 405 },
  { name: 'a batch', path: batch('availability.byDate,availability.byDate', { 0: { date: SAT }, 1: { date: SUN } }), fastPath: false, runs: 2, status: 200 },
  { name: 'a batch with an error', path: batch('availability.byDate,availability.bySession', { 0: { date: SAT }, 1: { sessionId: ids.unknown, date: SAT } }), fastPath: false, runs: 2, status: 207 },
  { name: 'a streamed batch', path: batch('availability.byDate', { 0: { date: SAT } }), headers: { 'trpc-accept': 'application/jsonl' }, fastPath: false, runs: 1, status: 200 },
];

describe('plain GET queries on the fast path', () => {
  it.each(cases)('$name: the same answer as the adapter', async ({ path, token, headers = {}, fastPath, runs, status }) => {
    const sent = token ? { ...headers, authorization: tokens[token]! } : headers;
    await answer(adapter, path, sent); // fills the shared cache first, so both read the same versions
    const [served, calls] = [await counter(fast, 'slotcast_trpc_fast_queries_total'), await counter(fast, 'slotcast_trpc_calls_total')];
    const viaFast = await answer(fast, path, sent);
    expect(await counter(fast, 'slotcast_trpc_fast_queries_total')).toBe(served + (fastPath ? 1 : 0));
    expect(await counter(fast, 'slotcast_trpc_calls_total')).toBe(calls + runs);
    expect(viaFast.status).toBe(status);
    expect(viaFast).toEqual(await answer(adapter, path, sent));
  });

  it('names the field on bad input and keeps the error in the body', async () => {
    const bad = JSON.parse((await answer(fast, '/trpc/availability.byDate?input=%7B')).body) as { error: { message: string; data: { code: string; fields: string[] } } };
    expect(bad.error.data).toMatchObject({ code: 'BAD_REQUEST', fields: ['input'] });
    expect(bad.error.message).toMatch(/^input: /);
    const notFound = JSON.parse((await answer(fast, query('availability.bySession', { sessionId: ids.unknown, date: SAT }))).body) as { error: { message: string } };
    expect(notFound.error.message).toBe(`no session ${ids.unknown}`);
  });
});

describe('the procedure lists beside the router', () => {
  // The lists are checked against the router's type at compile time; here, against what the adapter does with each path.
  it('lists queries the adapter runs on GET', async () => {
    for (const path of QUERY_PATHS) {
      const { status, body } = await answer(adapter, query(path, {}));
      expect([400, 401], `${path}: ${body}`).toContain(status);
    }
  });

  it('lists mutations the adapter refuses on GET as mutations', async () => {
    for (const path of MUTATION_PATHS) {
      const { status, allow } = await answer(adapter, query(path, {}));
      expect({ path, status, allow }).toEqual({ path, status: 405, allow: 'POST' });
    }
  });

  it('lists subscriptions the adapter streams', async () => {
    for (const path of SUBSCRIPTION_PATHS) {
      const response = await fetch(`http://127.0.0.1:${adapter.hub.port}${query(path, { channel: 'nope' })}`);
      expect(response.headers.get('content-type')).toBe('text/event-stream');
      expect(await response.text()).toContain('event: serialized-error');
    }
  });

  it('an unlisted path is no procedure', async () => {
    expect((await answer(adapter, query('availability.nope', {}))).status).toBe(404);
  });
});

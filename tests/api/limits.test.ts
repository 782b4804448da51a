import { beforeAll, describe, expect, it } from 'vitest';
import { EventSource } from 'eventsource';
import { addDays, MAX_RANGE_DAYS } from '@slotcast/shared';
import { createSlotcastClient } from '../../client/src/index.ts';
import { SAT, writeFixture } from '../support/fixture.ts';
import { startTestHub, type TestHub } from '../support/hub.ts';
import { metric, openSse, send, serveApi, type Reply } from '../support/api-server.ts';
import { openStream } from '../support/stream.ts';

// Every request here goes over real HTTP to the hub's tRPC handler; `send` fails on any 5xx.
let t: TestHub;
let admin: string;

beforeAll(async () => {
  t = await startTestHub({ redis: true, seams: { changeFeed: false } });
  await writeFixture(t.hub.database.models);
  admin = await t.token('admin-1', ['admin']);
});

const input = (value: unknown) => encodeURIComponent(JSON.stringify(value));
const query = (path: string, value: unknown) => `/trpc/${path}?input=${input(value)}`;
const batch = (calls: [string, unknown][]) =>
  `/trpc/${calls.map(([path]) => path).join(',')}?batch=1&input=${input(Object.fromEntries(calls.map(([, value], i) => [i, value])))}`;
/** `count` ranges of `days` days each, on dates no earlier test has read (so each would miss the cache). */
const ranges = (count: number, days: number, first: string): [string, unknown][] =>
  Array.from({ length: count }, (_, i) => ['availability.byDateRange', { from: addDays(first, i * days), to: addDays(first, i * days + days - 1) }]);

type Errors = { error: { message: string; code: number; data: { code: string; httpStatus: number; path?: string } } }[];
const errorsOf = (reply: Reply) => JSON.parse(reply.body) as Errors;

/** What a request made the hub compute: recomputes, cache lookups and procedures run. */
async function work(port: number) {
  return {
    recomputes: await metric(port, 'slotcast_recompute_seconds_count'),
    cacheLookups: await metric(port, 'slotcast_cache_lookups_total'),
    calls: await metric(port, 'slotcast_trpc_calls_total'),
  };
}

describe('batch size and days per request', () => {
  const strict = { TRPC_MAX_BATCH_CALLS: '4', TRPC_MAX_DAYS_PER_REQUEST: '10' };
  let fast: number;
  let adapter: number;
  beforeAll(async () => {
    fast = await serveApi(t, { env: strict });
    adapter = await serveApi(t, { env: strict, fast: false });
  });

  it('refuses a batch over the limit without computing anything', async () => {
    const before = await work(fast);
    const refusals = await metric(fast, 'slotcast_trpc_refusals_total', 'limit="batch"');
    const reply = await send(fast, batch(ranges(5, 1, '2031-03-01')));
    expect(reply.status).toBe(413);
    expect(errorsOf(reply)).toEqual(
      ranges(5, 1, '2031-03-01').map(([path]) => ({
        error: { message: 'batch: 5 calls in one request; at most 4', code: -32013, data: { code: 'PAYLOAD_TOO_LARGE', httpStatus: 413, path } },
      })),
    );
    expect(await work(fast)).toEqual(before);
    expect(await metric(fast, 'slotcast_trpc_refusals_total', 'limit="batch"')).toBe(refusals + 1);
    // At the limit the same calls run, and the counters above show it.
    expect((await send(fast, batch(ranges(4, 1, '2031-03-01')))).status).toBe(200);
    const after = await work(fast);
    expect(after.calls).toBe(before.calls + 4);
    expect(after.recomputes).toBeGreaterThan(before.recomputes);
    expect(after.cacheLookups).toBeGreaterThan(before.cacheLookups);
  });

  it('caps the days a batch reads, summed over its calls', async () => {
    const before = await work(fast);
    const over = await send(fast, batch(ranges(3, 4, '2031-04-01')));
    expect(over.status).toBe(413);
    expect(errorsOf(over).map((e) => [e.error.data.code, e.error.message])).toEqual(
      Array.from({ length: 3 }, () => ['PAYLOAD_TOO_LARGE', 'days: the calls of this request read 12 days; at most 10 per request']),
    );
    expect(await work(fast)).toEqual(before);
    const within = await send(fast, batch([...ranges(2, 4, '2031-04-01'), ['availability.byDate', { date: '2031-05-01' }]]));
    expect(within.status).toBe(200);
  });

  it('caps one call too, and the fast path refuses exactly as the adapter does', async () => {
    const path = query('availability.byDateRange', { from: '2031-06-01', to: '2031-06-11' });
    const served = await metric(fast, 'slotcast_trpc_fast_queries_total');
    const before = await work(fast);
    const viaFast = await send(fast, path);
    expect(await metric(fast, 'slotcast_trpc_fast_queries_total')).toBe(served + 1);
    expect(await work(fast)).toEqual(before);
    expect(viaFast).toEqual(await send(adapter, path));
    expect(viaFast.status).toBe(413);
    expect(JSON.parse(viaFast.body)).toEqual({
      error: { message: 'days: the calls of this request read 11 days; at most 10 per request', code: -32013, data: { code: 'PAYLOAD_TOO_LARGE', httpStatus: 413, path: 'availability.byDateRange' } },
    });
  });

  it('counts the days of a mutation body too', async () => {
    const reply = await send(adapter, '/trpc/availability.refresh', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
      body: JSON.stringify({ from: '2031-07-01', to: '2031-07-11' }),
    });
    expect([reply.status, JSON.parse(reply.body)]).toMatchObject([413, { error: { data: { code: 'PAYLOAD_TOO_LARGE', path: 'availability.refresh' } } }]);
  });

  it('leaves invalid calls to their own errors: they read nothing', async () => {
    const backwards = Array.from({ length: 4 }, (): [string, unknown] => ['availability.byDateRange', { from: '2031-08-30', to: '2031-08-01' }]);
    const reply = await send(fast, batch(backwards));
    expect(reply.status).toBe(400);
    expect(errorsOf(reply).map((e) => e.error.message)).toEqual(Array.from({ length: 4 }, () => 'to: must not be before from'));
  });
});

describe('the request from the issue, under the default limits', () => {
  it('refuses 140 batched 93-day ranges, and 16 of them, without computing', async () => {
    const port = t.hub.port;
    const before = await work(port);
    const flood = await send(port, batch(ranges(140, MAX_RANGE_DAYS, '2032-01-01')));
    expect([flood.status, errorsOf(flood)[0]!.error.message]).toEqual([413, 'batch: 140 calls in one request; at most 16']);
    const wide = await send(port, batch(ranges(16, MAX_RANGE_DAYS, '2032-01-01')));
    expect([wide.status, errorsOf(wide)[0]!.error.message]).toEqual([413, 'days: the calls of this request read 1488 days; at most 186 per request']);
    expect(await work(port)).toEqual(before);
  });
});

describe('rate limits per client', () => {
  const rates = { TRPC_RATE_LIMIT_REQUESTS: '3', TRPC_RATE_LIMIT_WINDOW_SECONDS: '3600', SSE_RATE_LIMIT_OPENS: '2', SSE_RATE_LIMIT_WINDOW_SECONDS: '3600' };
  const byDate = query('availability.byDate', { date: SAT });

  async function flood(port: number, from: string): Promise<Reply> {
    for (let i = 0; i < 3; i++) expect((await send(port, byDate, { from })).status).toBe(200);
    return send(port, byDate, { from });
  }

  it('answers a flood from one client with 429 while another client is still served', async () => {
    const port = await serveApi(t, { env: rates });
    const refused = await flood(port, '127.0.0.1');
    expect(refused.status).toBe(429);
    expect(Number(refused.retryAfter)).toBeGreaterThan(3500);
    expect(JSON.parse(refused.body)).toEqual({
      error: { message: 'at most 3 requests per 3600 s from one client', code: -32029, data: { code: 'TOO_MANY_REQUESTS', httpStatus: 429, path: 'availability.byDate' } },
    });
    const before = await work(port);
    // Refused before anything runs, batches included; a forged X-Forwarded-For is no new identity.
    const refusedBatch = await send(port, batch([['availability.byDate', { date: SAT }], ['availability.byDate', { date: SAT }]]));
    expect(errorsOf(refusedBatch).map((e) => e.error.data.code)).toEqual(['TOO_MANY_REQUESTS', 'TOO_MANY_REQUESTS']);
    expect(refusedBatch.status).toBe(429);
    expect((await send(port, byDate, { headers: { 'x-forwarded-for': '203.0.113.9' } })).status).toBe(429);
    expect(await work(port)).toEqual(before);
    const other = await send(port, byDate, { from: '127.0.0.2' });
    expect([other.status, other.body]).toEqual([200, expect.stringContaining('"result"')]);
  });

  it('refuses alike on the fast path and the adapter', async () => {
    const fast = await serveApi(t, { env: rates });
    const adapter = await serveApi(t, { env: rates, fast: false });
    const [viaFast, viaAdapter] = [await flood(fast, '127.0.0.1'), await flood(adapter, '127.0.0.1')];
    expect({ ...viaFast, retryAfter: undefined }).toEqual({ ...viaAdapter, retryAfter: undefined });
    expect(viaFast.status).toBe(429);
    for (const reply of [viaFast, viaAdapter]) expect(Number(reply.retryAfter)).toBeGreaterThan(3500);
  });

  it('limits the SSE subscriptions one client opens, apart from its queries', async () => {
    const port = await serveApi(t, { env: rates });
    const subscribe = query('availability.subscribe', { channel: 'availability' });
    // Each admitted stream is read until its snapshot arrives, so no snapshot is still being computed below.
    const snapshot = '"type":"availability.updated"';
    for (let i = 0; i < 2; i++) expect((await openSse(port, subscribe, { from: '127.0.0.3', until: snapshot })).text).toContain(snapshot);
    const before = await work(port);
    const refused = await openSse(port, subscribe, { from: '127.0.0.3' });
    // As every SSE error, the refusal is the stream's one event, with tRPC's error shape; then it ends.
    expect(refused).toMatchObject({ status: 200, type: 'text/event-stream', ended: true });
    expect(refused.text).toContain('event: serialized-error');
    expect(refused.text).toContain('"code":-32029,"data":{"code":"TOO_MANY_REQUESTS","httpStatus":429,"path":"availability.subscribe"}');
    expect(await work(port)).toEqual(before);
    expect((await send(port, byDate, { from: '127.0.0.3' })).status).toBe(200);
    expect((await openSse(port, subscribe, { from: '127.0.0.4' })).text).toContain('event: connected');
  });

  it('gives the typed client a TOO_MANY_REQUESTS error that ends the subscription', async () => {
    const port = await serveApi(t, { env: { SSE_RATE_LIMIT_OPENS: '1', SSE_RATE_LIMIT_WINDOW_SECONDS: '3600' } });
    const client = createSlotcastClient({ url: `http://127.0.0.1:${port}`, EventSource: EventSource as unknown as typeof globalThis.EventSource });
    const first = openStream(client, 'availability');
    await first.started;
    const second = openStream(client, 'availability');
    await expect(second.until('the refusal', () => false)).rejects.toMatchObject({ data: { code: 'TOO_MANY_REQUESTS', httpStatus: 429 } });
    first.close();
    second.close();
  });

  it('believes X-Forwarded-For only from the trusted proxies', async () => {
    const port = await serveApi(t, { env: { TRPC_RATE_LIMIT_REQUESTS: '1', TRPC_RATE_LIMIT_WINDOW_SECONDS: '3600', TRUST_PROXY: '1' } });
    const via = (chain: string) => send(port, byDate, { headers: { 'x-forwarded-for': chain } });
    expect((await via('203.0.113.7')).status).toBe(200);
    expect((await via('203.0.113.7')).status).toBe(429);
    // The proxy appends what it saw; what the client wrote before it changes nothing.
    expect((await via('198.51.100.1, 203.0.113.7')).status).toBe(429);
    expect((await via('203.0.113.8')).status).toBe(200);
    expect((await send(port, byDate)).status).toBe(200);
    expect((await via('not-an-address')).status).toBe(429);
  });
});

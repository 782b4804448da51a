import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import { SAT, id, ids, writeFixture } from '../support/fixture.ts';
import { TEST_JWT_SECRET, startTestHub, type TestHub } from '../support/hub.ts';

let t: TestHub;
let base: string;
let admin: string;
let staff: string;

beforeAll(async () => {
  t = await startTestHub({ redis: true });
  await writeFixture(t.hub.database.models);
  base = `http://127.0.0.1:${t.hub.port}/trpc`;
  admin = await t.token('admin-1', ['admin', 'staff']);
  staff = await t.token('staff-1', ['staff']);
});

interface Answer {
  status: number;
  code?: string;
  message?: string;
  fields?: string[];
}

async function answer(response: Response): Promise<Answer> {
  const text = await response.text();
  try {
    const body = JSON.parse(text) as { error?: { message: string; data: { code: string; fields?: string[] } } };
    return { status: response.status, code: body.error?.data.code, message: body.error?.message, fields: body.error?.data.fields };
  } catch {
    return { status: response.status };
  }
}

const query = async (path: string, input: unknown, token?: string) =>
  answer(
    await fetch(`${base}/${path}?input=${encodeURIComponent(JSON.stringify(input))}`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    }),
  );

const rawQuery = async (path: string, rawInput: string, headers: Record<string, string> = {}) =>
  answer(await fetch(`${base}/${path}?input=${encodeURIComponent(rawInput)}`, { headers }));

const mutate = async (path: string, body: string, token = admin) =>
  answer(
    await fetch(`${base}/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body,
    }),
  );

async function fingerprint(): Promise<string> {
  const db = t.hub.database.connection.db!;
  const hash = createHash('sha256');
  for (const name of ['sessions', 'bookings', 'session_overrides']) {
    hash.update(JSON.stringify(await db.collection(name).find().sort({ _id: 1 }).toArray()));
  }
  return hash.digest('hex');
}

describe('bad input is BAD_REQUEST naming the field, and changes nothing', () => {
  const badDates: unknown[] = ['2025-02-30', '2025-13-01', '', 'tomorrow', '2025-1-1', { $gt: '' }, ['2025-01-01'], 20250101, null, true];
  const badIds: unknown[] = ['xyz', '64b00000000000000000000', '64b0000000000000000000zz', { $gt: '' }, ['64b000000000000000000001'], '', 1];

  it.each(badDates)('byDate date %j', async (date) => {
    expect(await query('availability.byDate', { date })).toMatchObject({ status: 400, code: 'BAD_REQUEST', fields: ['date'] });
  });

  it.each(badIds)('bySession sessionId %j', async (sessionId) => {
    expect(await query('availability.bySession', { sessionId, date: SAT })).toMatchObject({ status: 400, code: 'BAD_REQUEST', fields: ['sessionId'] });
  });

  it.each(badIds)('byDateRange sessionId %j', async (sessionId) => {
    expect(await query('availability.byDateRange', { from: SAT, to: SAT, sessionId })).toMatchObject({ code: 'BAD_REQUEST', fields: ['sessionId'] });
  });

  it('ranges: from after to, 94 days, and the 93-day limit itself', async () => {
    expect(await query('availability.byDateRange', { from: '2027-02-02', to: '2027-02-01' })).toMatchObject({ code: 'BAD_REQUEST', fields: ['to'] });
    const tooLong = await query('availability.byDateRange', { from: '2027-01-01', to: '2027-04-04' });
    expect(tooLong).toMatchObject({ code: 'BAD_REQUEST', fields: ['to'] });
    expect(tooLong.message).toContain('93');
    expect((await query('availability.byDateRange', { from: '2027-01-01', to: '2027-04-03' })).status).toBe(200);
    expect(await query('availability.stats', { from: '2027-01-01', to: '2027-04-04' }, staff)).toMatchObject({ code: 'BAD_REQUEST', fields: ['to'] });
    expect(await query('availability.alerts', { from: '2027-02-01', to: '2027-01-01' }, staff)).toMatchObject({ code: 'BAD_REQUEST', fields: ['to'] });
  });

  it('missing, unknown and mistyped fields', async () => {
    expect(await query('availability.byDate', {})).toMatchObject({ code: 'BAD_REQUEST', fields: ['date'] });
    expect(await query('availability.byDate', { date: SAT, extra: 1 })).toMatchObject({ code: 'BAD_REQUEST' });
    expect(await query('availability.byDate', [SAT])).toMatchObject({ code: 'BAD_REQUEST' });
    expect(await query('availability.byDate', 'x')).toMatchObject({ code: 'BAD_REQUEST' });
    expect(await query('availability.peakHours', { from: SAT, to: SAT, limit: 0 }, staff)).toMatchObject({ fields: ['limit'] });
    expect(await query('availability.peakHours', { from: SAT, to: SAT, limit: '3' }, staff)).toMatchObject({ fields: ['limit'] });
    expect(await rawQuery('availability.byDate', '{"date":')).toMatchObject({ status: 400, code: 'BAD_REQUEST' });
  });

  it('refresh: bad scopes and a 1 MB body', async () => {
    const before = await fingerprint();
    expect(await mutate('availability.refresh', JSON.stringify({ date: 'tomorrow' }))).toMatchObject({ code: 'BAD_REQUEST', fields: ['date'] });
    expect(await mutate('availability.refresh', JSON.stringify({ date: SAT, from: SAT, to: SAT }))).toMatchObject({ code: 'BAD_REQUEST', fields: ['date'] });
    expect(await mutate('availability.refresh', JSON.stringify({ from: SAT }))).toMatchObject({ code: 'BAD_REQUEST', fields: ['to'] });
    expect(await mutate('availability.refresh', JSON.stringify({ sessionId: { $ne: null } }))).toMatchObject({ code: 'BAD_REQUEST', fields: ['sessionId'] });
    const huge = await mutate('availability.refresh', JSON.stringify({ date: SAT, pad: 'x'.repeat(1024 * 1024) }));
    expect(huge).toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
    expect(await fingerprint()).toBe(before);
  });

  it('a 1 MB query string is refused without a server error', async () => {
    const response = await fetch(`${base}/availability.byDate?input=${'x'.repeat(1024 * 1024)}`);
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
  });

  it('left the database as it was after every bad call above', async () => {
    const before = await fingerprint();
    for (const date of badDates) await query('availability.byDate', { date });
    for (const sessionId of badIds) await mutate('availability.refresh', JSON.stringify({ sessionId }));
    expect(await fingerprint()).toBe(before);
    expect((await query('availability.byDate', { date: SAT })).status).toBe(200);
  });
});

describe('tokens', () => {
  const statsInput = { from: SAT, to: SAT };

  it('refuses expired, wrongly signed, unsigned and malformed tokens with UNAUTHORIZED', async () => {
    const expired = await new SignJWT({ roles: ['staff'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('staff-1')
      .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
      .sign(new TextEncoder().encode(TEST_JWT_SECRET));
    const wronglySigned = await new SignJWT({ roles: ['admin'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('admin-1')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('another-secret-that-is-also-32-characters'));
    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const algNone = `${encode({ alg: 'none', typ: 'JWT' })}.${encode({ sub: 'admin-1', roles: ['admin'], exp: 4102444800 })}.`;
    const noSub = await new SignJWT({ roles: ['staff'] }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(new TextEncoder().encode(TEST_JWT_SECRET));

    for (const token of [expired, wronglySigned, algNone, noSub, 'not-a-jwt', 'a.b.c', 'x'.repeat(5000)]) {
      expect(await query('availability.stats', statsInput, token), token.slice(0, 40)).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
      // A bad token is refused even where no token is needed.
      expect(await query('availability.byDate', { date: SAT }, token)).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
    }
    expect(await mutate('availability.refresh', '{}', wronglySigned)).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
    expect(await mutate('availability.refresh', '{}', algNone)).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
  });

  it('grants nothing for unknown roles', async () => {
    const token = await t.token('someone', ['superuser' as never]);
    expect(await query('availability.stats', statsInput, token)).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    expect((await query('availability.byDate', { date: SAT }, token)).status).toBe(200);
  });

  it('needs a token for staff procedures', async () => {
    expect(await query('availability.stats', statsInput)).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
    expect(await answer(await fetch(`${base}/availability.stats?input=${encodeURIComponent(JSON.stringify(statsInput))}`, { headers: { authorization: 'Basic abc' } }))).toMatchObject({
      code: 'UNAUTHORIZED',
    });
  });

  it('accepts a good staff token', async () => {
    expect((await query('availability.stats', statsInput, staff)).status).toBe(200);
    expect((await query('availability.bySession', { sessionId: id(ids.swim), date: SAT }, staff)).status).toBe(200);
  });
});

describe('forms that are valid', () => {
  it('treats an upper-case id as the same session everywhere', async () => {
    const upper = id(ids.swim).toUpperCase();
    const range = await query('availability.byDateRange', { from: SAT, to: SAT, sessionId: upper });
    expect(range.status).toBe(200);
    const body = (await (await fetch(`${base}/availability.byDateRange?input=${encodeURIComponent(JSON.stringify({ from: SAT, to: SAT, sessionId: upper }))}`)).json()) as {
      result: { data: { sessions: { sessionId: string }[] }[] };
    };
    expect(body.result.data[0]!.sessions.map((s) => s.sessionId)).toEqual([id(ids.swim)]);
  });
});

describe('field naming', () => {
  it('names an unknown key as the field', async () => {
    expect(await query('availability.byDate', { date: SAT, extra: 1 })).toMatchObject({ code: 'BAD_REQUEST', fields: ['extra'] });
  });

  it('refuses an Authorization header that is not a bearer token', async () => {
    for (const authorization of ['Basic abc', 'Bearer a b', 'Bearer', 'token']) {
      const response = await fetch(`${base}/availability.byDate?input=${encodeURIComponent(JSON.stringify({ date: SAT }))}`, { headers: { authorization } });
      expect(await answer(response), authorization).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays, RESYNC_REASON, todayIn } from '@slotcast/shared';
import { ACK_TIMEOUT, createRealtimeClient, type RealtimeClient, type StateChange } from '../../client/src/index.ts';
import { freePort } from '../../server/src/devservices/redis-server.ts';
import { connectDatabase, type Database } from '../../server/src/db/connect.ts';
import { spawnHub, type HubProcess } from '../support/hub-process.ts';
import { testDatabaseUri } from '../support/database.ts';
import { startTestHub, TEST_JWT_SECRET } from '../support/hub.ts';
import { ids, id } from '../support/fixture.ts';
import { Tokens } from '../../server/src/auth/tokens.ts';
import { connect, subscribe, Received } from '../support/sockets.ts';
import { Waiter } from '../support/waiter.ts';

const today = todayIn('UTC');
const clients: RealtimeClient[] = [];
afterAll(() => clients.forEach((client) => client.close()));

function track(client: RealtimeClient) {
  clients.push(client);
  const states: StateChange[] = [];
  const waiter = new Waiter();
  const wake = () => waiter.wake();
  client.on('state', (change) => {
    states.push(change);
    wake();
  });
  client.store.subscribe(wake);
  const until = (description: string, check: () => boolean, timeoutMs = 15_000) =>
    waiter.until(description, check, timeoutMs, { detail: () => `states ${states.map((s) => `${s.state}/${s.reason}`).join(', ')}` });
  return { states, until, wake };
}

describe('realtime client against a hub process', () => {
  let database: Database;
  let port: number;
  let mongoUri: string;
  let hub: HubProcess;

  const startHubProcess = () => spawnHub({ PORT: String(port), HOST: '127.0.0.1', MONGODB_URI: mongoUri, JWT_SECRET: TEST_JWT_SECRET, COALESCE_MS: '10' });

  beforeAll(async () => {
    mongoUri = testDatabaseUri();
    database = await connectDatabase(mongoUri);
    await database.models.Session.create({ _id: ids.swim, name: 'Morning Swim', startTime: '07:00', endTime: '08:00', capacity: 10 });
    port = await freePort();
    hub = startHubProcess();
    await hub.port();
  });
  afterAll(async () => {
    await hub.stop();
    await database.close();
  });

  it('reconnects after the hub restarts, subscribes again and ends at the database state', async () => {
    const client = createRealtimeClient({ url: `http://127.0.0.1:${port}`, backoff: { baseMs: 100, maxMs: 1000 }, transports: ['websocket'] });
    const { states, until, wake } = track(client);
    const snapshots: number[] = [];
    client.subscribe(`availability.${today}`, {
      onSnapshot: (rows) => {
        snapshots.push(rows.length);
        wake();
      },
    });
    client.connect();
    await until('connected', () => client.state === 'connected');
    await until('the snapshot', () => snapshots.length === 1);
    expect(snapshots).toEqual([1]);

    expect(await hub.stop('SIGTERM')).toBe(0);
    await until('the disconnect', () => client.state === 'disconnected');
    await database.models.Booking.create({ sessionId: ids.swim, date: today, userId: 'u1', quantity: 4, status: 'confirmed' });
    hub = startHubProcess();
    await until(
      'the booking written while the hub was down, and the snapshot of the new subscription',
      () => client.store.get(id(ids.swim), today)?.booked === 4 && snapshots.length >= 2,
      30_000,
    );
    expect(client.state).toBe('connected');
    const sequence = states.map((s) => s.state);
    expect(sequence.slice(0, 2)).toEqual(['connecting', 'connected']);
    expect(sequence).toContain('disconnected');
    expect(states.find((s) => s.state === 'disconnected')).toMatchObject({ reason: expect.stringMatching(/server_disconnect|transport_closed/), attempt: 1 });
    expect(states.filter((s) => s.state === 'disconnected').every((s) => (s.delayMs ?? -1) >= 0 && (s.delayMs ?? 2000) < 1000)).toBe(true);
    client.close();
    expect(client.state).toBe('closed');
  }, 60_000);

  it('reconnects at once when the browser comes back online', async () => {
    const target = new EventTarget();
    const client = createRealtimeClient({ url: `http://127.0.0.1:${port}`, backoff: { baseMs: 60_000, maxMs: 60_000 }, eventTarget: target, transports: ['websocket'] });
    const { until } = track(client);
    client.connect();
    await until('connected', () => client.state === 'connected');
    expect(await hub.stop('SIGTERM')).toBe(0);
    await until('the disconnect', () => client.state === 'disconnected');
    hub = startHubProcess();
    await hub.port();
    // The backoff says up to a minute; the online event cuts it short.
    target.dispatchEvent(new Event('online'));
    await until('connected again', () => client.state === 'connected', 10_000);
  }, 60_000);

  it('asks again when a subscribe gets no answer in time, and applies the snapshot once the hub answers', async () => {
    const client = createRealtimeClient({ url: `http://127.0.0.1:${await hub.port()}`, ackTimeoutMs: 300, backoff: { baseMs: 50, maxMs: 200 }, transports: ['websocket'] });
    const { until, wake } = track(client);
    const errors: string[] = [];
    const snapshots: number[] = [];
    client.connect();
    await until('connected', () => client.state === 'connected');
    // A hub that cannot answer for a while (stopped, overloaded): the connection stays, the ack does not come.
    hub.child.kill('SIGSTOP');
    try {
      client.subscribe(`availability.${today}`, {
        onError: (error) => {
          errors.push(error.code);
          wake();
        },
        onSnapshot: (rows) => {
          snapshots.push(rows.length);
          wake();
        },
      });
      await until('an ack timeout', () => errors.includes(ACK_TIMEOUT));
      expect(snapshots).toEqual([]);
    } finally {
      hub.child.kill('SIGCONT');
    }
    await until('the snapshot of a later attempt', () => snapshots.length > 0);
    expect(snapshots[0]).toBe(1);
    expect(client.state).toBe('connected');
  }, 30_000);
});

describe('realtime client against an in-process hub', () => {
  it('keeps a connection whose token is replaced before it expires, and closes on a refused fixed token', async () => {
    const t = await startTestHub();
    const url = `http://127.0.0.1:${t.hub.port}`;
    const client = createRealtimeClient({ url, token: await t.token('user-5', [], '2s'), transports: ['websocket'] });
    const { states, until } = track(client);
    client.connect();
    await until('connected', () => client.state === 'connected');
    expect(await client.setToken(await t.token('user-5', [], '1h'))).toMatchObject({ ok: true });
    const refused = createRealtimeClient({ url, token: 'not-a-token', transports: ['websocket'] });
    const refusedStates = track(refused);
    refused.connect();
    await refusedStates.until('closed', () => refused.state === 'closed');
    expect(refusedStates.states.at(-1)).toMatchObject({ state: 'closed', reason: 'unauthorized' });
    // Past the first token's expiry the connection is still the first one.
    // The only way to show a timer did not fire is to let its time pass: wait past the first token's expiry.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(client.state).toBe('connected');
    expect(states.filter((s) => s.state === 'connected')).toHaveLength(1);
  }, 30_000);

  it('asks a token function again on every reconnect', async () => {
    const t = await startTestHub();
    let calls = 0;
    const tokens = new Tokens(TEST_JWT_SECRET);
    const client = createRealtimeClient({
      url: `http://127.0.0.1:${t.hub.port}`,
      token: () => {
        calls += 1;
        return tokens.sign({ sub: 'user-6' }, '2s');
      },
      backoff: { baseMs: 50, maxMs: 200 },
      transports: ['websocket'],
    });
    const { states, until } = track(client);
    client.connect();
    await until('two connections (the first token expired)', () => states.filter((s) => s.state === 'connected').length >= 2, 10_000);
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(states.some((s) => s.state === 'disconnected' && s.reason === 'server_disconnect')).toBe(true);
  }, 30_000);

  it('subscribes again and applies snapshots when the hub asks for a resync, ignoring what is not newer', async () => {
    const t = await startTestHub();
    await t.hub.database.models.Session.create({ _id: ids.spin, name: 'Evening Spin', startTime: '18:00', endTime: '19:00', capacity: 20 });
    await t.hub.feed!.idle();
    const client = createRealtimeClient({ url: `http://127.0.0.1:${t.hub.port}`, transports: ['websocket'] });
    const { until, wake } = track(client);
    const snapshots: number[] = [];
    const errors: string[] = [];
    const versions = new Map<string, number[]>();
    client.subscribe(`availability.session.${id(ids.spin)}`, {
      onSnapshot: (rows) => {
        snapshots.push(rows.length);
        wake();
      },
      onUpdate: (update) => versions.set(update.date, [...(versions.get(update.date) ?? []), update.version]),
      onError: (error) => {
        errors.push(`${error.code}: ${error.message}`);
        wake();
      },
    });
    client.connect();
    await until('the snapshot', () => snapshots.length === 1 || errors.length > 0);
    expect(errors).toEqual([]);
    expect(snapshots).toEqual([7]);
    t.hub.realtime.resyncLocal(RESYNC_REASON.FEED_RESYNC);
    await until('the second snapshot', () => snapshots.length === 2);
    await t.hub.database.models.Booking.create({ sessionId: ids.spin, date: addDays(today, 1), userId: 'u', quantity: 2, status: 'confirmed' });
    await until('the update', () => client.store.get(id(ids.spin), addDays(today, 1))?.booked === 2);
    // Per key, handlers only ever see newer versions (keys among themselves have no order).
    for (const seen of versions.values()) expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(versions.get(addDays(today, 1))?.length).toBeGreaterThan(0);
  }, 30_000);

  it('ends at the last state when the hub\'s real deliveries arrive late, twice and out of order', async () => {
    const t = await startTestHub({ env: { COALESCE_MS: '0' } });
    await t.hub.database.models.Session.create({ _id: ids.swim, name: 'Morning Swim', startTime: '07:00', endTime: '08:00', capacity: 100 });
    await t.hub.feed!.idle();
    const raw = new Received(await connect(`http://127.0.0.1:${t.hub.port}`));
    raw.apply(await subscribe(raw.socket, { channel: `availability.${today}` }));
    for (let i = 1; i <= 12; i += 1) {
      await t.hub.database.models.Booking.create({ sessionId: ids.swim, date: today, userId: `o${i}`, quantity: 1, status: 'confirmed' });
      await raw.until(`update ${i}`, (r) => r.get(id(ids.swim), today)?.booked === i);
    }
    const real = raw.updates.filter((u) => u.sessionId === id(ids.swim));
    expect(real.length).toBeGreaterThanOrEqual(12);
    // Replay what the hub sent: newest first, every one twice, the oldest again at the end.
    const store = createRealtimeClient({ url: 'http://127.0.0.1:1' }).store;
    for (const update of [...real].reverse().flatMap((u) => [u, u]).concat(real[0]!)) store.apply(update);
    expect(store.get(id(ids.swim), today)).toMatchObject({ booked: 12, version: Math.max(...real.map((u) => u.version)) });
  }, 30_000);
});

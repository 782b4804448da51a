import { describe, expect, it } from 'vitest';
import { Types } from 'mongoose';
import { addDays, todayIn, type SessionAvailability } from '@slotcast/shared';
import { differences, truthOf } from '../support/truth.ts';
import { LEASE_MS, isLeader, resyncingClient, startCluster, urlOf } from '../support/cluster.ts';
import type { HubProcess } from '../support/hub-process.ts';
import type { Received } from '../support/sockets.ts';

const today = todayIn('UTC');
const tomorrow = addDays(today, 1);

async function setUp() {
  const cluster = await startCluster();
  const sessions = [new Types.ObjectId(), new Types.ObjectId()];
  await cluster.models.Session.insertMany(
    sessions.map((_id, i) => ({ _id, name: `Class ${i}`, startTime: `0${i + 8}:00`, endTime: `0${i + 8}:45`, capacity: 5000 })),
  );
  const keys = sessions.flatMap((sessionId) => [today, tomorrow].map((date) => ({ sessionId, date })));
  const write = async (i: number) => {
    const key = keys[i % keys.length]!;
    await cluster.models.Booking.create({ ...key, userId: `u${i % 13}`, quantity: 1, status: i % 10 === 9 ? 'cancelled' : 'confirmed' });
  };
  const channels = ['availability', `availability.${tomorrow}`];
  /**
   * A confirmed booking on the key of write `i`: once clients show it, every publish for that key's
   * earlier writes is done (a key's events are handled in order), including owner-only ones.
   */
  const marker = (i: number) => cluster.models.Booking.create({ ...keys[i % keys.length]!, userId: 'marker', quantity: 1, status: 'confirmed' });
  return { cluster, write, channels, marker };
}

async function expectConverged(cluster: Awaited<ReturnType<typeof setUp>>['cluster'], clients: Received[]) {
  const truth = await truthOf(cluster.models, today, tomorrow);
  for (const [i, client] of clients.entries()) {
    await client.until(`client ${i} to match MongoDB`, (r) => differences(r.state as never, truth).length === 0, 30_000).catch((error: Error) => {
      throw new Error(`${error.message}\n${differences(client.state as never, truth).join('\n')}\n${cluster.diagnostics()}`);
    });
    // Across a handover, an old leader's last emit may still be in Redis when the new leader's newer
    // one arrives: order is not promised then (clients keep the newest), but no version comes twice.
    expect(client.noVersionTwice()).toBe(true);
    expect(client.failures).toEqual([]);
  }
  return truth;
}

const leaderTime = (hub: HubProcess, after: number) =>
  hub.waitForLog((line) => line.msg === 'leader lease acquired' && Date.parse(String(line.time)) >= after, 20_000);

async function emitsOf(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return [...text.matchAll(/^slotcast_emits_total\{[^}]*\} (\d+)/gm)].reduce((sum, match) => sum + Number(match[1]), 0);
}

describe('failover', () => {
  it('kill -9 of the leader in the middle of 1,000 writes: the other takes over within 2x the TTL and everything ends exact', async () => {
    const { cluster, write, channels } = await setUp();
    const a = cluster.spawn('hub-a');
    await isLeader(a);
    const b = cluster.spawn('hub-b');
    const urlB = await urlOf(b);
    const clients = await Promise.all([1, 2, 3].map(() => resyncingClient(urlB, channels)));
    let killedAt = 0;
    for (let i = 0; i < 1000; i += 1) {
      if (i === 300) {
        a.child.kill('SIGKILL');
        killedAt = Date.now();
      }
      await write(i);
    }
    const took = Date.parse(String((await leaderTime(b, killedAt)).time)) - killedAt;
    expect(took).toBeLessThanOrEqual(2 * LEASE_MS);
    const truth = await expectConverged(cluster, clients);
    // The cache behind the API agrees too.
    for (const date of [today, tomorrow]) {
      const body = (await (await fetch(`${urlB}/trpc/availability.byDate?input=${encodeURIComponent(JSON.stringify({ date }))}`)).json()) as {
        result: { data: SessionAvailability[] };
      };
      for (const row of body.result.data) expect(row.booked, `${row.sessionId}:${date}`).toBe(truth.get(`${row.sessionId}:${date}`)!.booked);
    }
  }, 120_000);

  it('SIGSTOP of the leader past its TTL, then SIGCONT: the stale leader neither stores nor emits', async () => {
    const { cluster, write, channels, marker } = await setUp();
    const a = cluster.spawn('hub-a');
    await isLeader(a);
    const b = cluster.spawn('hub-b');
    const [urlA, urlB] = [await urlOf(a), await urlOf(b)];
    const clients = await Promise.all([urlA, urlB].map((url) => resyncingClient(url, channels)));
    for (let i = 0; i < 20; i += 1) await write(i);
    // Write 19 is a cancellation, which its owner hears about even though no number moves.
    await marker(19);
    await expectConverged(cluster, clients);

    const emitsBefore = await emitsOf(urlA);
    const stoppedAt = Date.now();
    a.child.kill('SIGSTOP');
    await leaderTime(b, stoppedAt);
    for (let i = 20; i < 80; i += 1) await write(i);
    const resumedAt = Date.now();
    a.child.kill('SIGCONT');
    await a.waitForLog((line) => line.msg === 'leader lease lost' && Date.parse(String(line.time)) >= resumedAt, 10_000);
    await expectConverged(cluster, clients);
    expect(await emitsOf(urlA)).toBe(emitsBefore);
    const staleWork = a.logs.filter((line) => Date.parse(String(line.time)) >= resumedAt && /resynced the horizon|change feed started/.test(line.msg));
    expect(staleWork).toEqual([]);
  }, 120_000);

  it('a Redis restart mid-stream crashes nothing, and every socket converges once it is back', async () => {
    const { cluster, write, channels } = await setUp();
    const hubs = [cluster.spawn('hub-a'), cluster.spawn('hub-b')];
    const urls = await Promise.all(hubs.map(urlOf));
    await Promise.race(hubs.map(isLeader));
    const clients = await Promise.all([0, 1, 0, 1].map((i) => resyncingClient(urls[i]!, channels)));
    for (let i = 0; i < 30; i += 1) await write(i);
    await expectConverged(cluster, clients);

    await cluster.restartRedis(async () => {
      for (let i = 30; i < 80; i += 1) await write(i);
    });
    for (let i = 80; i < 100; i += 1) await write(i);
    await expectConverged(cluster, clients);
    for (const hub of hubs) expect(hub.child.exitCode).toBeNull();
    for (const client of clients) await client.until('the resync notice', (r) => r.resyncs.includes('redis_recovered'));
  }, 120_000);
});

import { beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Types } from 'mongoose';
import { addDays, type Key } from '@slotcast/shared';
import { startTestHub, type TestHub } from '../support/hub.ts';
import { Waiter } from '../support/waiter.ts';
import { connect, subscribe, Received } from '../support/sockets.ts';

let t: TestHub;
const LIMIT = 64 * 1024;

beforeAll(async () => {
  t = await startTestHub({ seams: { changeFeed: false }, env: { SOCKET_MAX_QUEUED_BYTES: String(LIMIT) }, captureLogs: true });
  await t.hub.database.models.Session.insertMany(
    Array.from({ length: 5 }, (_, i) => ({ _id: new Types.ObjectId(), name: `Class ${i}`, startTime: `1${i}:00`, endTime: `1${i}:30`, capacity: 10 })),
  );
});

/**
 * A client that stops reading but keeps the connection alive: it speaks Engine.IO by hand,
 * subscribes to every change, pauses its TCP socket (reads nothing more) and sends a blind pong
 * every second, as the hostile client in the issue did.
 */
async function nonReadingClient(url: string): Promise<{ closed: () => boolean; stop: () => void }> {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`);
  const waiter = new Waiter();
  const seen: string[] = [];
  ws.on('message', (data) => (seen.push(String(data)), waiter.wake()));
  let closed = false;
  ws.on('close', () => ((closed = true), waiter.wake()));
  await waiter.until('the Engine.IO open packet', () => seen.some((m) => m.startsWith('0')), 10_000);
  ws.send('40/availability,{}');
  await waiter.until('the namespace', () => seen.some((m) => m.startsWith('40/availability')), 10_000);
  ws.send('42/availability,1["subscribe",{"channel":"availability"}]');
  await waiter.until('the subscribe ack', () => seen.some((m) => m.startsWith('43/availability,1')), 10_000);
  (ws as unknown as { _socket: { pause(): void } })._socket.pause();
  const pong = setInterval(() => ws.readyState === WebSocket.OPEN && ws.send('3'), 1_000);
  return { closed: () => closed, stop: () => (clearInterval(pong), ws.terminate()) };
}

describe('a client that stops reading', () => {
  it('is dropped once its queue passes SOCKET_MAX_QUEUED_BYTES, while a reading client keeps every update', async () => {
    const slow = await nonReadingClient(t.hub.url);
    const reader = new Received(await connect(t.hub.url));
    reader.apply(await subscribe(reader.socket, { channel: 'availability' }));
    const keys: Key[] = await t.hub.reads.keysIn({ from: addDays(t.hub.reads.today(), 1), to: addDays(t.hub.reads.today(), 100) });
    const metric = async (name: string) => Number(/ (\d+(?:\.\d+)?)$/m.exec(await t.hub.metrics.registry.getSingleMetricAsString(name))?.[1] ?? 0);
    try {
      let rounds = 0;
      // Publish until the hub drops it (each round: one update for each of 500 keys, about 250 KB).
      while ((await metric('slotcast_slow_socket_drops_total')) === 0 && rounds < 60) {
        await t.hub.writes.recompute(keys, 'refresh', [], { announceAll: true });
        rounds += 1;
      }
      expect(await metric('slotcast_slow_socket_drops_total')).toBe(1);
      console.log(`dropped after ${rounds} rounds of ${keys.length} updates; heap ${Math.round(process.memoryUsage().heapUsed / 2 ** 20)} MiB`);
      await t.waitForLog('the drop', (line) => line.msg === 'dropping a socket that stopped reading');
      // The reading client is still there and saw the last round.
      await reader.until('the last round', (r) => r.updates.length >= rounds * keys.length, 20_000);
      expect(reader.socket.connected).toBe(true);
      expect(reader.noVersionTwice()).toBe(true);
    } finally {
      slow.stop();
    }
  }, 120_000);

  it('keeps the hub’s memory bounded with 100 such clients under 2,000 writes', async () => {
    const clients = await Promise.all(Array.from({ length: 100 }, () => nonReadingClient(t.hub.url)));
    const keys: Key[] = (await t.hub.reads.keysIn({ from: addDays(t.hub.reads.today(), 1), to: addDays(t.hub.reads.today(), 100) })).slice(0, 500);
    const heap = () => process.memoryUsage().heapUsed / 2 ** 20;
    try {
      global.gc?.();
      const before = heap();
      // 2,000 writes (4 rounds of 500 keys), each sent to all 100 clients.
      for (let round = 0; round < 4; round += 1) await t.hub.writes.recompute(keys, 'refresh', [], { announceAll: true });
      const queued = Number(/ (\d+)$/m.exec(await t.hub.metrics.registry.getSingleMetricAsString('slotcast_socket_queue_max_bytes'))?.[1] ?? 0);
      const after = heap();
      console.log(`100 non-reading clients, 2,000 writes: heap ${before.toFixed(0)} → ${after.toFixed(0)} MiB; largest queue ${queued} bytes (limit ${LIMIT}); ${clients.filter((c) => c.closed()).length} dropped so far`);
      // Whatever the kernel buffers do, no socket may hold more than the limit past a check, so the growth stays far below 100 × 2,000 events.
      expect(after - before).toBeLessThan(200);
    } finally {
      for (const client of clients) client.stop();
    }
  }, 120_000);
});

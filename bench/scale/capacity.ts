/**
 * bench:scale, table 2: the change-feed leader's sustained capacity. Bookings are inserted at a
 * fixed rate spread over 1,000 keys (50 sessions x 20 dates); sockets subscribed to the range
 * channel of those dates receive every change. Per write: from just before its insert to the
 * moment the last socket holds an update of its key with `booked` at least its count (coalescing
 * may fold several writes of a key into one update: that update delivers all of them).
 */
import { mongo, type Connection } from 'mongoose';
import { io as connectSocket, type Socket } from 'socket.io-client';
import { addDays, todayIn } from '@slotcast/shared';
import { now } from '../fanout/protocol.ts';

export const SESSIONS = 50;
export const DATES = 20;
const TICK_MS = 10;
/** A write not delivered this long after the step ended counts as lost (above any target). */
const DRAIN_MS = 5_000;

export interface Keys {
  sessionIds: mongo.ObjectId[];
  dates: string[];
  channel: string;
}

export async function seedKeys(conn: Connection): Promise<Keys> {
  const db = conn.db!;
  const sessionIds = Array.from({ length: SESSIONS }, () => new mongo.ObjectId());
  await db.collection('sessions').insertMany(
    sessionIds.map((_id, i) => ({ _id, name: `Class ${i}`, startTime: '10:00', endTime: '11:00', capacity: 10_000_000, active: true })),
  );
  const today = todayIn('UTC');
  const dates = Array.from({ length: DATES }, (_, i) => addDays(today, i));
  return { sessionIds, dates, channel: `availability.range.${dates[0]}.${dates.at(-1)}` };
}

/** How many inserts per second MongoDB takes alone (no hub, no change stream of ours), with `concurrency` in flight. */
export async function wireServerLimit(conn: Connection, seconds: number, concurrency: number): Promise<number> {
  const collection = conn.db!.collection('raw_inserts');
  const until = now() + seconds * 1000;
  let count = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (now() < until) {
        await collection.insertOne({ sessionId: new mongo.ObjectId(), date: '2026-01-01', userId: 'raw', quantity: 1, status: 'confirmed', createdAt: new Date() });
        count += 1;
      }
    }),
  );
  await collection.drop().catch(() => undefined);
  return count / seconds;
}

export interface Step {
  target: number;
  achieved: number;
  writes: number;
  delivered: number;
  p50: number;
  p99: number;
  max: number;
}

export class Watchers {
  private sockets: Socket[] = [];
  /** Per socket: per key, the highest `booked` seen and when each level was first reached is resolved by the waiters. */
  private readonly seen: Map<string, number>[] = [];
  private readonly pending = new Map<string, { booked: number; at: number; reached: number }[]>();
  latencies: number[] = [];

  async open(url: string, channel: string, count: number): Promise<void> {
    for (let i = 0; i < count; i += 1) {
      const socket = connectSocket(`${url}/availability`, { transports: ['websocket'], forceNew: true, reconnection: false });
      const seen = new Map<string, number>();
      this.seen.push(seen);
      socket.on('availability.updated', (update: { sessionId: string; date: string; booked: number }) => this.received(seen, update));
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('connect_error', reject);
      });
      const ack = (await socket.timeout(30_000).emitWithAck('subscribe', { channel })) as { ok: boolean; snapshot?: { sessionId: string; date: string; booked: number }[] };
      if (!ack.ok) throw new Error(`subscribe ${channel} refused`);
      for (const row of ack.snapshot ?? []) this.received(seen, row);
      this.sockets.push(socket);
    }
  }

  private received(seen: Map<string, number>, update: { sessionId: string; date: string; booked: number }): void {
    const key = `${update.sessionId}:${update.date}`;
    if ((seen.get(key) ?? -1) >= update.booked) return;
    seen.set(key, update.booked);
    const waiting = this.pending.get(key);
    if (!waiting) return;
    const at = now();
    for (let i = waiting.length - 1; i >= 0; i -= 1) {
      const write = waiting[i]!;
      if (write.booked > update.booked) continue;
      write.reached += 1;
      if (write.reached === this.sockets.length) {
        this.latencies.push(at - write.at);
        waiting.splice(i, 1);
      }
    }
  }

  /** Registers a write of `key` that makes its count `booked`, made at `at`. */
  expect(key: string, booked: number, at: number): void {
    const reached = this.seen.filter((seen) => (seen.get(key) ?? -1) >= booked).length;
    const list = this.pending.get(key) ?? [];
    list.push({ booked, at, reached });
    this.pending.set(key, list);
  }

  outstanding(): number {
    let n = 0;
    for (const list of this.pending.values()) n += list.length;
    return n;
  }

  clear(): void {
    this.pending.clear();
    this.latencies = [];
  }

  close(): void {
    for (const socket of this.sockets) socket.close();
  }
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;

/** Inserts at `rate` per second for `seconds`, round-robin over the keys, then waits for the deliveries. */
export async function runStep(conn: Connection, keys: Keys, watchers: Watchers, counts: Map<string, number>, rate: number, seconds: number): Promise<Step> {
  const bookings = conn.db!.collection('bookings');
  const total = Math.round(rate * seconds);
  const started = now();
  let issued = 0;
  let done = 0;
  const inFlight = new Set<Promise<unknown>>();
  watchers.clear();
  while (issued < total) {
    const due = Math.min(total, Math.floor(((now() - started) / 1000) * rate) + 1);
    while (issued < due && inFlight.size < 64) {
      const i = issued++;
      const sessionId = keys.sessionIds[i % SESSIONS]!;
      const date = keys.dates[Math.floor(i / SESSIONS) % DATES]!;
      const key = `${sessionId.toHexString()}:${date}`;
      const booked = (counts.get(key) ?? 0) + 1;
      counts.set(key, booked);
      const at = now();
      watchers.expect(key, booked, at);
      const insert = bookings.insertOne({ sessionId, date, userId: `u${i % 97}`, quantity: 1, status: 'confirmed', createdAt: new Date(), updatedAt: new Date() });
      const tracked = insert.then(() => (done += 1)).finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
    }
    await new Promise((resolve) => setTimeout(resolve, TICK_MS));
  }
  await Promise.all(inFlight);
  const elapsed = (now() - started) / 1000;
  const drainUntil = now() + DRAIN_MS;
  while (watchers.outstanding() > 0 && now() < drainUntil) await new Promise((resolve) => setTimeout(resolve, 20));
  const lost = watchers.outstanding();
  const sorted = [...watchers.latencies, ...Array.from({ length: lost }, () => Number.POSITIVE_INFINITY)].sort((a, b) => a - b);
  return { target: rate, achieved: done / elapsed, writes: done, delivered: watchers.latencies.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? Number.NaN };
}

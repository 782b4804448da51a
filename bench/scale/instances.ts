/**
 * bench:scale, table 3: 1, 2 and 4 hub processes holding 10,000 sockets between them (evenly),
 * all subscribed to one date channel. Four write pipelines, one per session of that date, each
 * inserting its next booking once the previous one reached every socket: deliveries per second
 * and the hubs' CPU (user + system, /proc) per 1,000 deliveries over the measured writes.
 */
import { mongo, type Connection } from 'mongoose';
import { todayIn } from '@slotcast/shared';
import { now, writeKey, type ClientCommand, type ClientReply, type Target } from '../fanout/protocol.ts';
import { cpuSeconds, rssKiB, spawnHub, type Forked, type HubProcess } from '../fanout/processes.ts';

export type Client = Forked<ClientCommand, ClientReply>;

const PIPELINES = 4;
/** Each pipeline's bookings start above this many times its number, so `booked` names the write. */
const BASE = 100_000;
const DELIVERY_TIMEOUT_MS = 20_000;

export interface InstancesResult {
  instances: number;
  sockets: number;
  writes: number;
  seconds: number;
  deliveriesPerSecond: number;
  cpuMsPer1000: number;
  hubCores: number;
  kibPerSocket: number;
  p99Ms: number;
}

/** Resolves when every client process has reported a write (keyed by writeKey) delivered to all of its sockets. */
class Deliveries {
  private readonly counts = new Map<string, number>();
  private readonly waiters = new Map<string, () => void>();

  constructor(private readonly clients: Client[]) {
    for (const client of clients) {
      client.on((message) => {
        if (message.op !== 'delivered') return;
        const count = (this.counts.get(message.key) ?? 0) + 1;
        this.counts.set(message.key, count);
        if (count === this.clients.length) this.waiters.get(message.key)?.();
      });
    }
  }

  wait(key: string): Promise<void> {
    if (this.counts.get(key) === this.clients.length) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`write ${key} not delivered to every socket in ${DELIVERY_TIMEOUT_MS} ms`)), DELIVERY_TIMEOUT_MS);
      this.waiters.set(key, () => {
        clearTimeout(timer);
        this.waiters.delete(key);
        resolve();
      });
    });
  }
}

export async function measureInstances(options: {
  instances: number;
  sockets: number;
  writes: number;
  clients: Client[];
  conn: Connection;
  hubEnv: (name: string) => Record<string, string>;
  onCleanup: (stop: () => Promise<unknown>) => void;
  log: (message: string) => void;
}): Promise<InstancesResult> {
  const { instances, sockets, writes, clients, conn, log } = options;
  const db = conn.db!;
  await db.dropDatabase();
  const date = todayIn('UTC');
  const sessionIds = Array.from({ length: PIPELINES }, () => new mongo.ObjectId());
  await db.collection('sessions').insertMany(sessionIds.map((_id, i) => ({ _id, name: `Pipe ${i}`, startTime: '10:00', endTime: '11:00', capacity: 10_000_000, active: true })));
  const bookings = db.collection('bookings');
  const stamp = () => ({ createdAt: new Date(), updatedAt: new Date() });
  await bookings.insertMany(sessionIds.map((sessionId, i) => ({ sessionId, date, userId: 'base', quantity: (i + 1) * BASE, status: 'confirmed', ...stamp() })));

  const hubs: HubProcess[] = Array.from({ length: instances }, (_, i) => spawnHub(`hub-${i}`, options.hubEnv(`hub-${i}`)));
  let stopped = false;
  const stopHubs = async () => {
    if (stopped) return;
    stopped = true;
    await Promise.all(hubs.map((hub) => hub.stop()));
  };
  options.onCleanup(stopHubs);
  try {
    const urls = await Promise.all(hubs.map(async (hub) => `http://127.0.0.1:${await hub.port()}`));
    const leader = await Promise.race(hubs.map((hub) => hub.waitForLog((l) => l.msg === 'leader lease acquired', 30_000).then(() => hub)));
    await leader.waitForLog((l) => l.msg === 'resynced the horizon', 60_000);
    const rssBefore = hubs.map((hub) => rssKiB(hub.pid));

    const share = sockets / clients.length;
    const replies = await Promise.all(
      clients.map((client) => {
        const targets: Target[] = urls.map((url, server) => ({ url, count: Math.round(share / instances), system: 'slotcast', server }));
        const reply = client.next((m): m is Extract<ClientReply, { op: 'connected' }> => m.op === 'connected', 300_000);
        client.send({ op: 'connect', targets, channel: `availability.${date}`, concurrency: 50 });
        return reply;
      }),
    );
    const held = replies.reduce((sum, reply) => sum + reply.sockets.slotcast, 0);
    if (held < sockets) throw new Error(`only ${held} of ${sockets} sockets connected: ${replies.flatMap((r) => r.errors).join(' | ')}`);
    const rssAfter = hubs.map((hub) => rssKiB(hub.pid));
    log(`${instances} instance(s): ${held} sockets connected in ${Math.max(...replies.map((r) => r.ms)).toFixed(0)} ms`);

    const deliveries = new Deliveries(clients);
    const booked = sessionIds.map((_, i) => (i + 1) * BASE);
    const times: number[] = [];
    const pipeline = async (i: number, count: number) => {
      for (let n = 0; n < count; n += 1) {
        booked[i]! += 1;
        const delivered = deliveries.wait(writeKey('slotcast', booked[i]));
        const at = now();
        await bookings.insertOne({ sessionId: sessionIds[i], date, userId: `p${i}`, quantity: 1, status: 'confirmed', ...stamp() });
        await delivered;
        times.push(now() - at);
      }
    };
    await Promise.all(sessionIds.map((_, i) => pipeline(i, 2)));
    times.length = 0;

    const cpuBefore = hubs.map((hub) => cpuSeconds(hub.pid));
    const started = now();
    await Promise.all(sessionIds.map((_, i) => pipeline(i, Math.ceil(writes / PIPELINES))));
    const seconds = (now() - started) / 1000;
    const cpu = hubs.reduce((sum, hub, i) => sum + cpuSeconds(hub.pid) - cpuBefore[i]!, 0);
    const total = times.length * held;
    const sorted = [...times].sort((a, b) => a - b);

    await Promise.all(clients.map((client) => {
      const done = client.next((m): m is Extract<ClientReply, { op: 'disconnected' }> => m.op === 'disconnected', 60_000);
      client.send({ op: 'disconnect' });
      return done;
    }));
    return {
      instances,
      sockets: held,
      writes: times.length,
      seconds,
      deliveriesPerSecond: total / seconds,
      cpuMsPer1000: (cpu * 1000) / (total / 1000),
      hubCores: cpu / seconds,
      kibPerSocket: rssAfter.reduce((sum, kib, i) => sum + kib - rssBefore[i]!, 0) / held,
      p99Ms: sorted[Math.min(sorted.length - 1, Math.ceil(0.99 * sorted.length) - 1)]!,
    };
  } finally {
    await stopHubs();
  }
}

/**
 * bench:scale, table 1: what one broadcast to a date room costs in Redis traffic, per instance,
 * with the classic adapter (PUBLISH, every instance PSUBSCRIBEs the namespace) and the sharded
 * one (SPUBLISH, `subscriptionMode: 'dynamic'`: an instance SSUBSCRIBEs a room's channel only
 * while it has a socket in that room).
 *
 * Four plain Socket.IO servers in this process, each with its own pub and sub ioredis
 * connections; one socket, on instance 0, in the room; instance 1 emits. What an instance
 * receives is read from its connections' TCP sockets (`stream.bytesRead`: every byte Redis sent
 * it, RESP framing included) and from ioredis' message events, before and after the broadcasts.
 */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { createAdapter, createShardedAdapter } from '@socket.io/redis-adapter';
import { io as connectSocket } from 'socket.io-client';

export type AdapterKind = 'classic' | 'sharded';

export interface InstanceTraffic {
  instance: number;
  role: string;
  messages: number;
  subBytes: number;
  pubBytes: number;
}

const INSTANCES = 4;
const NSP = '/availability';

interface Instance {
  http: HttpServer;
  io: Server;
  pub: Redis;
  sub: Redis;
  messages: number;
}

const bytesRead = (redis: Redis) => (redis as unknown as { stream?: { bytesRead: number } }).stream?.bytesRead ?? 0;

async function startInstance(redisUrl: string, kind: AdapterKind, key: string): Promise<Instance> {
  const pub = new Redis(redisUrl);
  const sub = new Redis(redisUrl);
  const http = createServer();
  const adapter = kind === 'classic' ? createAdapter(pub, sub, { key }) : createShardedAdapter(pub, sub, { channelPrefix: key, subscriptionMode: 'dynamic' });
  const io = new Server(http, { adapter, transports: ['websocket'] });
  const instance: Instance = { http, io, pub, sub, messages: 0 };
  for (const event of ['messageBuffer', 'pmessageBuffer', 'smessageBuffer']) sub.on(event, () => (instance.messages += 1));
  io.of(NSP).on('connection', (socket) => void socket.join(String(socket.handshake.query.room)));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return instance;
}

async function stopInstance(instance: Instance): Promise<void> {
  await new Promise<void>((resolve) => instance.io.close(() => resolve()));
  await Promise.all([instance.pub.quit(), instance.sub.quit()]);
}

/** Broadcasts `count` copies of `payload` to one date room and returns what each instance received meanwhile. */
export async function measureTraffic(redisUrl: string, kind: AdapterKind, payload: Record<string, unknown>, count: number): Promise<InstanceTraffic[]> {
  const key = `bench-scale-${kind}-${Date.now()}`;
  const room = `availability.${String(payload.date)}`;
  const instances: Instance[] = [];
  const socket = { close: () => undefined } as { close(): void };
  try {
    for (let i = 0; i < INSTANCES; i += 1) instances.push(await startInstance(redisUrl, kind, key));
    const port = (instances[0]!.http.address() as AddressInfo).port;
    const client = connectSocket(`http://127.0.0.1:${port}${NSP}`, { transports: ['websocket'], query: { room }, forceNew: true, reconnection: false });
    socket.close = () => client.close();
    let received = 0;
    client.on('availability.updated', () => (received += 1));
    await new Promise<void>((resolve, reject) => {
      client.once('connect', resolve);
      client.once('connect_error', reject);
    });
    // Subscriptions are made asynchronously (classic: each instance's PSUBSCRIBE at start; sharded,
    // dynamic: the room's SSUBSCRIBE on join): wait until Redis counts them.
    const admin = new Redis(redisUrl);
    try {
      for (let tries = 0; ; tries += 1) {
        const subscribed =
          kind === 'sharded'
            ? Number(((await admin.call('PUBSUB', 'SHARDNUMSUB', `${key}#${NSP}#${room}#`)) as [string, number])[1]) >= 1
            : String(await admin.call('CLIENT', 'LIST')).split('\n').filter((line) => /\bpsub=[1-9]/.test(line)).length >= INSTANCES;
        if (subscribed) break;
        if (tries > 200) throw new Error('the room channel was never subscribed');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    } finally {
      await admin.quit();
    }
    const before = instances.map((instance) => ({ sub: bytesRead(instance.sub), pub: bytesRead(instance.pub), messages: instance.messages }));
    const emitter = instances[1]!.io.of(NSP);
    for (let i = 0; i < count; i += 1) {
      emitter.to(room).emit('availability.updated', { ...payload, version: i + 1 });
      if (i % 50 === 49) await new Promise((resolve) => setImmediate(resolve));
    }
    const deadline = Date.now() + 30_000;
    while (received < count && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    if (received < count) throw new Error(`${kind}: the room's socket got ${received} of ${count} broadcasts`);
    // Let the other instances' connections drain what Redis sent them too.
    await Promise.all(instances.map((instance) => instance.pub.ping()));
    await new Promise((resolve) => setTimeout(resolve, 200));
    return instances.map((instance, i) => ({
      instance: i,
      role: i === 0 ? 'holds the room' : i === 1 ? 'emits' : 'neither',
      messages: instance.messages - before[i]!.messages,
      subBytes: bytesRead(instance.sub) - before[i]!.sub,
      pubBytes: bytesRead(instance.pub) - before[i]!.pub,
    }));
  } finally {
    socket.close();
    for (const instance of instances) await stopInstance(instance).catch(() => undefined);
  }
}

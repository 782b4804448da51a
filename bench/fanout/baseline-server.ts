/**
 * The bare baseline of bench:fanout (forked by bench/fanout.ts, two of them): a plain Socket.IO
 * server with the same Redis adapter as the hub, namespace /availability; 'subscribe' joins the
 * room and acks `{ ok: true }`. The bench's "write" is an IPC message telling this process to
 * emit `availability.updated` to a room; the adapter carries it to the other server.
 *
 * Environment: REDIS_URL, ADAPTER_KEY.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import type { BaselineCommand, BaselineReply } from './protocol.ts';

const redisUrl = process.env.REDIS_URL;
if (!redisUrl) throw new Error('REDIS_URL is required');

const pub = new Redis(redisUrl);
const sub = pub.duplicate();
const httpServer = createServer();
const io = new Server(httpServer);
io.adapter(createAdapter(pub, sub, { key: process.env.ADAPTER_KEY ?? 'socket.io' }));
const nsp = io.of('/availability');
nsp.on('connection', (socket) => {
  socket.on('subscribe', (request: { channel?: unknown } | null, ack: unknown) => {
    if (typeof ack !== 'function') return;
    const channel = request?.channel;
    if (typeof channel !== 'string') return ack({ ok: false });
    void socket.join(channel);
    ack({ ok: true });
  });
});

const send = (reply: BaselineReply) => process.send?.(reply);

let stopping: Promise<void> | undefined;
function stop(): Promise<void> {
  stopping ??= (async () => {
    nsp.disconnectSockets(true);
    await new Promise<void>((resolve) => io.close(() => resolve()));
    await Promise.all([pub.quit(), sub.quit()]).catch(() => undefined);
    send({ op: 'stopped' });
    process.disconnect?.();
  })();
  return stopping;
}

process.on('message', (command: BaselineCommand) => {
  if (command.op === 'emit') nsp.to(command.room).emit('availability.updated', command.payload);
  else if (command.op === 'stop') void stop();
});
process.on('disconnect', () => void stop().finally(() => process.exit(0)));
process.once('SIGTERM', () => void stop().finally(() => process.exit(0)));
process.once('SIGINT', () => void stop().finally(() => process.exit(0)));

await Promise.all([
  new Promise<void>((resolve) => pub.once('ready', () => resolve())),
  new Promise<void>((resolve) => sub.once('ready', () => resolve())),
]);
httpServer.listen(0, '127.0.0.1', () => send({ op: 'listening', port: (httpServer.address() as AddressInfo).port }));

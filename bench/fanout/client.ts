/**
 * One client process of bench:fanout (forked by bench/fanout.ts): holds its share of the sockets
 * of both systems, subscribes each to the date channel, and reports over IPC when all of its
 * sockets of a system have received the `availability.updated` whose `booked` is a given value,
 * with the first and last receive times.
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { io, type Socket } from 'socket.io-client';
import { now, writeKey, type ClientCommand, type ClientReply, type System, type Target } from './protocol.ts';

interface Tally {
  count: number;
  first: number;
  last: number;
  lastByServer: (number | null)[];
}

let sockets: Socket[] = [];
const held: Record<System, number> = { slotcast: 0, baseline: 0 };
let tallies = new Map<string, Tally>();
let window: EventLoopUtilization | undefined;

const send = (reply: ClientReply) => process.send?.(reply);

type Listener = (update: { booked?: unknown }) => void;
const listeners = new Map<string, Listener>();

/** One listener per (system, server), shared by the sockets of that server. */
function listenerFor(system: System, server: number): Listener {
  const id = `${system}/${server}`;
  let listener = listeners.get(id);
  if (listener) return listener;
  listener = (update) => {
    const at = now();
    const key = writeKey(system, update?.booked);
    let tally = tallies.get(key);
    if (!tally) {
      tally = { count: 0, first: at, last: at, lastByServer: [null, null] };
      tallies.set(key, tally);
    }
    tally.count += 1;
    tally.last = at;
    tally.lastByServer[server] = at;
    if (tally.count === held[system]) {
      send({ op: 'delivered', key, first: tally.first, last: tally.last, count: tally.count, lastByServer: tally.lastByServer });
    }
  };
  listeners.set(id, listener);
  return listener;
}

/** Connects one socket and subscribes it; resolves with the ack, rejects on any failure. */
function open(target: Target, channel: string): Promise<{ socket: Socket; ack: { ok: boolean; snapshot?: unknown[] } }> {
  const socket = io(`${target.url}/availability`, { transports: ['websocket'], forceNew: true, reconnection: false, timeout: 30_000 });
  return new Promise((resolve, reject) => {
    const fail = (error: Error) => {
      socket.close();
      reject(error);
    };
    socket.once('connect_error', fail);
    socket.once('connect', () => {
      socket.off('connect_error', fail);
      socket
        .timeout(30_000)
        .emitWithAck('subscribe', { channel })
        .then((ack: { ok: boolean; snapshot?: unknown[]; error?: { code: string } }) => {
          if (!ack?.ok) return fail(new Error(`subscribe refused: ${ack?.error?.code ?? JSON.stringify(ack)}`));
          socket.on('availability.updated', listenerFor(target.system, target.server));
          resolve({ socket, ack });
        }, fail);
    });
  });
}

async function connect(targets: Target[], channel: string, concurrency: number): Promise<void> {
  const started = now();
  tallies = new Map();
  // Interleaved, so every batch goes to every server.
  const queue: Target[] = [];
  const remaining = targets.map((t) => t.count);
  while (remaining.some((n) => n > 0)) {
    targets.forEach((target, i) => {
      if (remaining[i]! > 0) {
        queue.push(target);
        remaining[i]! -= 1;
      }
    });
  }
  const opened: { socket: Socket; system: System }[] = [];
  const errors: string[] = [];
  let failed = 0;
  let sample: Record<string, unknown> | undefined;
  let next = 0;
  const worker = async () => {
    while (next < queue.length) {
      const target = queue[next++]!;
      try {
        const { socket, ack } = await open(target, channel);
        opened.push({ socket, system: target.system });
        if (target.system === 'slotcast') sample ??= ack.snapshot?.[0] as Record<string, unknown> | undefined;
      } catch (error) {
        failed += 1;
        if (errors.length < 5) errors.push((error as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  sockets = opened.map((o) => o.socket);
  held.slotcast = opened.filter((o) => o.system === 'slotcast').length;
  held.baseline = opened.length - held.slotcast;
  window = performance.eventLoopUtilization();
  send({ op: 'connected', sockets: { ...held }, failed, errors, ms: now() - started, sample });
}

function disconnect(): void {
  const elu = window ? performance.eventLoopUtilization(window).utilization : 0;
  for (const socket of sockets) socket.disconnect();
  sockets = [];
  held.slotcast = 0;
  held.baseline = 0;
  tallies = new Map();
  window = undefined;
  send({ op: 'disconnected', elu });
}

process.on('message', (command: ClientCommand) => {
  switch (command.op) {
    case 'connect':
      void connect(command.targets, command.channel, command.concurrency);
      break;
    case 'disconnect':
      disconnect();
      break;
    case 'status': {
      const tally = tallies.get(command.key);
      const system = command.key.split(':')[0] as System;
      send({ op: 'status', key: command.key, count: tally?.count ?? 0, sockets: held[system] ?? 0, first: tally?.first ?? null, last: tally?.last ?? null });
      break;
    }
    case 'exit':
      for (const socket of sockets) socket.disconnect();
      process.disconnect?.();
      break;
  }
});
// The bench process went away (or told us to stop): nothing may stay behind.
process.on('disconnect', () => {
  for (const socket of sockets) socket.disconnect();
  process.exit(0);
});

/**
 * One hub process for bench:holds (forked, with an IPC channel): the hub as main.ts starts it,
 * plus a stopwatch on where each holds.create request spends its time. Each request gets an
 * AsyncLocalStorage store; every MongoDB command (the driver's command monitoring: from writing
 * the command to reading its reply) and every Redis command (ioredis' sendCommand, to its reply)
 * started inside the request adds its interval there. Per request, MongoDB time is the union of
 * its MongoDB intervals (parallel reads count once), Redis the same, and the hub the rest of the
 * request's wall time (its own code, tRPC, waits for a pooled MongoDB connection). Commands sent
 * outside any request (the change feed, the sweeper) are only counted.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { loadConfig } from '../../server/src/config/env.ts';
import { startHub } from '../../server/src/hub.ts';

export type HubIn = { type: 'reset' } | { type: 'stats' } | { type: 'bye' };
export interface HubStats {
  requests: number;
  wallMs: number;
  mongoMs: number;
  redisMs: number;
  /** Of the wall time, with a MongoDB or a Redis command in flight (their union). */
  storesMs: number;
  mongoCommands: number;
  redisCommands: number;
  /** Commands no request sent (change feed, sweeper, lease). */
  backgroundMongoCommands: number;
  /** Operations waiting for a pooled MongoDB connection, integrated over time (ms x waiters). */
  poolWaitMs: number;
  /** MongoDB commands by name, sent in requests or in the background: how many, and their summed round trips. */
  commands: Record<string, { n: number; ms: number }>;
}
export type HubOut = { type: 'ready'; port: number } | { type: 'stats'; stats: HubStats };

interface Spans {
  mongo: [number, number][];
  redis: [number, number][];
}
const requestSpans = new AsyncLocalStorage<Spans>();

/** Total length of a set of intervals, overlaps counted once. */
function unionMs(spans: [number, number][]): number {
  let total = 0;
  let end = -Infinity;
  for (const [from, to] of [...spans].sort((a, b) => a[0] - b[0])) {
    if (to <= end) continue;
    total += to - Math.max(from, end);
    end = to;
  }
  return total;
}

const zero = (): HubStats => ({ requests: 0, wallMs: 0, mongoMs: 0, redisMs: 0, storesMs: 0, mongoCommands: 0, redisCommands: 0, backgroundMongoCommands: 0, poolWaitMs: 0, commands: {} });
let stats = zero();

// Redis: every command's round trip, charged to the request that sent it.
const sendCommand = Redis.prototype.sendCommand;
Redis.prototype.sendCommand = function timed(this: Redis, command: Parameters<Redis['sendCommand']>[0], stream?: Parameters<Redis['sendCommand']>[1]) {
  const spans = requestSpans.getStore();
  if (spans) {
    const from = performance.now();
    const done = () => void spans.redis.push([from, performance.now()]);
    command.promise.then(done, done);
  }
  return sendCommand.call(this, command, stream);
} as Redis['sendCommand'];

const config = loadConfig();
const hub = await startHub(config, pino({ level: 'silent' }));

const client = hub.database.connection.getClient();
const started = new Map<number, { from: number; spans: Spans | undefined }>();
client.on('commandStarted', (event) => started.set(event.requestId, { from: performance.now(), spans: requestSpans.getStore() }));
const finished = (event: { requestId: number; commandName: string }) => {
  const begun = started.get(event.requestId);
  started.delete(event.requestId);
  if (!begun) return;
  const to = performance.now();
  if (begun.spans) begun.spans.mongo.push([begun.from, to]);
  else stats.backgroundMongoCommands += 1;
  const name = `${begun.spans ? '' : 'feed/sweeper '}${event.commandName}`;
  const entry = (stats.commands[name] ??= { n: 0, ms: 0 });
  entry.n += 1;
  entry.ms += to - begun.from;
};
client.on('commandSucceeded', finished);
client.on('commandFailed', finished);
// Waiters for a pooled connection, integrated over time.
let waiting = 0;
let lastChange = performance.now();
const waiters = (delta: number) => {
  const now = performance.now();
  stats.poolWaitMs += waiting * (now - lastChange);
  lastChange = now;
  waiting += delta;
};
client.on('connectionCheckOutStarted', () => waiters(1));
client.on('connectionCheckedOut', () => waiters(-1));
client.on('connectionCheckOutFailed', () => waiters(-1));

// Prepended, so the store is entered before the hub's own request listener runs (same emit, same context).
hub.server.prependListener('request', (req, res) => {
  if (!req.url?.startsWith('/trpc/holds.create')) return;
  const spans: Spans = { mongo: [], redis: [] };
  const from = performance.now();
  requestSpans.enterWith(spans);
  res.once('finish', () => {
    const to = performance.now();
    stats.requests += 1;
    stats.wallMs += to - from;
    stats.mongoMs += unionMs(spans.mongo);
    stats.redisMs += unionMs(spans.redis);
    stats.storesMs += unionMs([...spans.mongo, ...spans.redis]);
    stats.mongoCommands += spans.mongo.length;
    stats.redisCommands += spans.redis.length;
  });
});

process.on('message', (message: HubIn) => {
  if (message.type === 'reset') stats = zero();
  else if (message.type === 'stats') process.send!({ type: 'stats', stats } satisfies HubOut);
  else void hub.stop().finally(() => process.exit(0));
});
process.send!({ type: 'ready', port: hub.port } satisfies HubOut);

import { createServer, request, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';
import { pino } from 'pino';
import { createTrpcHandler } from '../../server/src/api/handler.ts';
import { apiLimits } from '../../server/src/api/limits.ts';
import { loadConfig } from '../../server/src/config/env.ts';
import { createHttpHandler } from '../../server/src/http/routes.ts';
import { whenDone } from './cleanup.ts';
import type { TestHub } from './hub.ts';
import { Waiter } from './waiter.ts';

/**
 * The hub's tRPC handler with limits read from `env`, on a port of its own beside the hub (same
 * read side, event log, tokens and metrics), built the way hub.ts builds it: one hub serves
 * several limit settings in one file. /metrics is the hub's registry.
 */
export async function serveApi(t: TestHub, options: { env?: Record<string, string>; fast?: boolean } = {}): Promise<number> {
  const limits = apiLimits(loadConfig(options.env ?? {}));
  const { api, metrics } = t.hub;
  const trpc = createTrpcHandler(api, pino({ level: 'silent' }), { fast: options.fast, metrics, limits });
  const handler = createHttpHandler({ metrics, isReady: async () => true, mounts: { '/trpc': trpc } });
  const server = createServer((req, res) => {
    Promise.resolve(handler(req, res)).catch((error: unknown) => {
      // A handler that throws is a 5xx, which every request helper below fails on.
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  whenDone(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return (server.address() as AddressInfo).port;
}

export interface Reply {
  status: number;
  type: string | undefined;
  vary: string | undefined;
  retryAfter: string | undefined;
  body: string;
}

const header = (headers: IncomingHttpHeaders, name: string) => {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
};

/**
 * One HTTP request to 127.0.0.1:`port` from the loopback address `from` (127.0.0.2 is another
 * client to the hub), read to its end. Never a 5xx: every limit must answer with a typed 4xx.
 */
export function send(port: number, path: string, options: { from?: string; headers?: Record<string, string>; method?: string; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers, localAddress: options.from ?? '127.0.0.1' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const reply = {
          status: res.statusCode ?? 0,
          type: header(res.headers, 'content-type'),
          vary: header(res.headers, 'vary'),
          retryAfter: header(res.headers, 'retry-after'),
          body: Buffer.concat(chunks).toString(),
        };
        expect(reply.status, `${path}: ${reply.body}`).toBeLessThan(500);
        resolve(reply);
      });
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/**
 * Opens an SSE subscription and reads it until its text contains `until` (then closes it) or it
 * ends (a refusal ends it after its `serialized-error` event); fails after the timeout.
 */
export function openSse(
  port: number,
  path: string,
  options: { from?: string; until?: string; timeoutMs?: number } = {},
): Promise<{ status: number; type: string | undefined; text: string; ended: boolean }> {
  const until = options.until ?? 'event: connected';
  const waiter = new Waiter();
  let text = '';
  let ended = false;
  let status = 0;
  let type: string | undefined;
  let failure: Error | undefined;
  const req = request({ host: '127.0.0.1', port, path, headers: { accept: 'text/event-stream' }, localAddress: options.from ?? '127.0.0.1' }, (res) => {
    status = res.statusCode ?? 0;
    type = header(res.headers, 'content-type');
    res.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      waiter.wake();
    });
    res.on('end', () => {
      ended = true;
      waiter.wake();
    });
  });
  req.on('error', (error) => {
    failure = error;
    waiter.wake();
  });
  req.end();
  return waiter
    .until(`${path} to send ${until} or end`, () => ended || text.includes(until), options.timeoutMs ?? 10_000, { failure: () => failure, detail: () => text })
    .then(() => ({ status, type, text, ended }))
    .finally(() => req.destroy());
}

/** A counter's (or histogram count's) total over the label sets that contain `labels`, from /metrics. */
export async function metric(port: number, name: string, labels = ''): Promise<number> {
  const { body } = await send(port, '/metrics');
  return body
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) && line.includes(labels))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Metrics } from '../observability/metrics.ts';
import { within } from '../within.ts';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface HttpRoutesOptions {
  metrics: Metrics;
  /** True when every backing service answers (and this instance's feed, if it leads, is not stalled). */
  isReady: () => Promise<boolean>;
  /** Mounted handlers by path prefix, such as /trpc; the longest matching prefix wins. */
  mounts: Record<string, RequestHandler>;
  /** Serves the demo page and its assets; `undefined` means 404. */
  page?: RequestHandler;
}

/**
 * /readyz answers within a second whatever its checks do: a check still running after this counts
 * as "not ready". Each check is bounded itself (the MongoDB ping at 800 ms at most, db/connect.ts); this is the backstop.
 */
const READY_TIMEOUT_MS = 900;

function send(res: ServerResponse, code: number, body: string, type = 'application/json'): void {
  res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

/** The hub's plain HTTP routes; Socket.IO answers /socket.io/ itself before this runs. */
export function createHttpHandler(options: HttpRoutesOptions): RequestHandler {
  const mounts = Object.entries(options.mounts).sort(([a], [b]) => b.length - a.length);
  return async (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const mount = mounts.find(([prefix]) => path === prefix || path.startsWith(`${prefix}/`));
    const route = mount?.[0] ?? (['/healthz', '/readyz', '/metrics'].includes(path) ? path : 'page');
    res.once('finish', () => options.metrics.httpRequests.inc({ route, code: res.statusCode }));
    if (mount) return mount[1](req, res);
    switch (path) {
      case '/healthz':
        return send(res, 200, '{"status":"ok"}');
      case '/readyz': {
        const checked = await within(options.isReady(), READY_TIMEOUT_MS);
        const ready = checked.settled && checked.value;
        options.metrics.ready.set(ready ? 1 : 0);
        return send(res, ready ? 200 : 503, JSON.stringify({ status: ready ? 'ready' : 'unavailable' }));
      }
      case '/metrics':
        return send(res, 200, await options.metrics.registry.metrics(), options.metrics.registry.contentType);
      default:
        if (options.page) return options.page(req, res);
        return send(res, 404, '{"error":"NOT_FOUND"}');
    }
  };
}

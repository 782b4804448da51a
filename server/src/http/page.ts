import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { build } from 'esbuild';
import { isoDateSchema, USER_ID } from '@slotcast/shared';
import type { Logger } from '../observability/logger.ts';
import type { RequestHandler } from './routes.ts';

const PAGE_DIR = fileURLToPath(new URL('./page/', import.meta.url));

/** Bundles a page's script (with the client library and socket.io-client) once, in memory: `app` (/) or `staff` (/staff). */
export function bundlePage(entry: 'app' | 'staff' = 'app'): Promise<string> {
  return build({
    entryPoints: [`${PAGE_DIR}${entry}.ts`],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    write: false,
    legalComments: 'none',
  }).then((result) => result.outputFiles[0]!.text);
}

export interface PageOptions {
  today: () => string;
  /** Writes a few bookings for a date straight into MongoDB; only in the embedded demo. */
  simulate?: (date: string) => Promise<number>;
  /** Signs a demo user's token (`staff` adds the staff role); only in the embedded demo, like simulate. */
  demoToken?: (user: string, staff: boolean) => Promise<string>;
  logger: Logger;
}

const MAX_BODY = 1024;

async function readSmallBody(req: IncomingMessage): Promise<string | undefined> {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > MAX_BODY) return undefined;
  }
  return body;
}

function send(res: ServerResponse, code: number, type: string, body: string, cache = 'no-cache'): void {
  res.writeHead(code, { 'content-type': type, 'cache-control': cache, 'x-content-type-options': 'nosniff' });
  res.end(body);
}

/** GET /demo/token?user=…[&role=staff]: a token for a demo user of the embedded database. */
async function demoToken(req: IncomingMessage, res: ServerResponse, sign: NonNullable<PageOptions['demoToken']>): Promise<void> {
  const query = new URL(req.url ?? '/', 'http://page').searchParams;
  const user = query.get('user') ?? '';
  if (!USER_ID.test(user)) return send(res, 400, 'application/json', '{"error":"BAD_REQUEST","message":"user: letters, digits and _@:+.- only"}');
  const staff = query.get('role') === 'staff';
  send(res, 200, 'application/json', JSON.stringify({ user, staff, token: await sign(user, staff) }));
}

/** The demo pages (/ for customers, /staff), their assets, and the demo endpoints. */
export function createPageHandler(options: PageOptions): RequestHandler {
  const files = new Map<string, Promise<string>>();
  const file = (name: string) => {
    if (!files.has(name)) files.set(name, name.endsWith('.js') ? bundlePage(name === 'staff.js' ? 'staff' : 'app') : readFile(`${PAGE_DIR}${name}`, 'utf8'));
    return files.get(name)!;
  };
  // Build at start-up, so the first visitor does not wait and a broken bundle shows in the log at once.
  void file('app.js').catch((error: unknown) => {
    options.logger.error({ err: error }, 'the demo page bundle failed to build; the next request tries again');
    files.delete('app.js');
  });

  return async (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && (path === '/' || path === '/index.html')) return send(res, 200, 'text/html; charset=utf-8', await file('index.html'));
    if (req.method === 'GET' && path === '/assets/app.js') return send(res, 200, 'text/javascript; charset=utf-8', await file('app.js'));
    if (req.method === 'GET' && path === '/assets/app.css') return send(res, 200, 'text/css; charset=utf-8', await file('app.css'));
    if (req.method === 'GET' && path === '/staff') return send(res, 200, 'text/html; charset=utf-8', await file('staff.html'));
    if (req.method === 'GET' && path === '/assets/staff.js') return send(res, 200, 'text/javascript; charset=utf-8', await file('staff.js'));
    if (req.method === 'GET' && path === '/favicon.ico') return send(res, 200, 'image/svg+xml', await file('favicon.svg'), 'public, max-age=86400');
    if (req.method === 'GET' && path === '/demo/config') {
      return send(res, 200, 'application/json', JSON.stringify({ today: options.today(), simulate: Boolean(options.simulate), demo: Boolean(options.demoToken) }));
    }
    if (req.method === 'GET' && path === '/demo/token' && options.demoToken) return demoToken(req, res, options.demoToken);
    if (req.method === 'POST' && path === '/demo/simulate' && options.simulate) {
      const body = await readSmallBody(req);
      if (body === undefined) return send(res, 413, 'application/json', '{"error":"PAYLOAD_TOO_LARGE"}');
      let date: unknown;
      try {
        date = (JSON.parse(body) as { date?: unknown }).date;
      } catch {
        date = undefined;
      }
      const parsed = isoDateSchema.safeParse(date);
      if (!parsed.success) return send(res, 400, 'application/json', '{"error":"BAD_REQUEST","message":"date: must be YYYY-MM-DD"}');
      return send(res, 200, 'application/json', JSON.stringify({ created: await options.simulate(parsed.data) }));
    }
    send(res, 404, 'application/json', '{"error":"NOT_FOUND"}');
  };
}

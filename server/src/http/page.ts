import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { build } from 'esbuild';
import { isoDateSchema, USER_ID } from '@slotcast/shared';
import type { Logger } from '../observability/logger.ts';
import type { RequestHandler } from './routes.ts';

const PAGE_DIR = fileURLToPath(new URL('./page/', import.meta.url));

/** Bundles one browser entry (with the client library and socket.io-client) into a single ESM file, in memory. */
function bundle(entry: string): Promise<string> {
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

/** A page's script: `app` (/) or `staff` (/staff). */
export const bundlePage = (entry: 'app' | 'staff' = 'app'): Promise<string> => bundle(entry);

/** `@slotcast/client/browser` as one file, for pages without a bundler (served at CLIENT_BUNDLE_PATH). */
export const bundleBrowserClient = (): Promise<string> => bundle('slotcast');

/** Where the hub serves the browser client: `<script type="module">import … from 'https://hub/client/slotcast.js'`. */
export const CLIENT_BUNDLE_PATH = '/client/slotcast.js';

const BUNDLES: Record<string, () => Promise<string>> = { 'app.js': () => bundlePage('app'), 'staff.js': () => bundlePage('staff'), 'slotcast.js': bundleBrowserClient };

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

function send(res: ServerResponse, code: number, type: string, body: string, extra: Record<string, string> = {}): void {
  res.writeHead(code, { 'content-type': type, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff', ...extra });
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
    if (!files.has(name)) files.set(name, BUNDLES[name]?.() ?? readFile(`${PAGE_DIR}${name}`, 'utf8'));
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
    // Any origin may load the client (a module script from another site is fetched with CORS); it carries no credentials.
    if (req.method === 'GET' && path === CLIENT_BUNDLE_PATH) {
      return send(res, 200, 'text/javascript; charset=utf-8', await file('slotcast.js'), { 'access-control-allow-origin': '*' });
    }
    if (req.method === 'GET' && path === '/assets/app.css') return send(res, 200, 'text/css; charset=utf-8', await file('app.css'));
    if (req.method === 'GET' && path === '/staff') return send(res, 200, 'text/html; charset=utf-8', await file('staff.html'));
    if (req.method === 'GET' && path === '/assets/staff.js') return send(res, 200, 'text/javascript; charset=utf-8', await file('staff.js'));
    if (req.method === 'GET' && path === '/favicon.ico') return send(res, 200, 'image/svg+xml', await file('favicon.svg'), { 'cache-control': 'public, max-age=86400' });
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

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CreateHTTPContextOptions } from '@trpc/server/adapters/standalone';
import type { RequestHandler } from '../http/routes.ts';
import type { Context } from './context.ts';
import { appRouter } from './routers/_app.ts';
import { createCallerFactory } from './trpc.ts';

type Call = (input: unknown) => Promise<unknown>;

const createCaller = createCallerFactory(appRouter);
const queries = new Set(
  Object.entries(appRouter._def.procedures as unknown as Record<string, { _def: { type: string } }>)
    .filter(([, procedure]) => procedure._def.type === 'query')
    .map(([path]) => path),
);

/** What the adapter's context gets for a plain query: no batch, no connection parameters. */
const NO_INFO = { isBatchCall: false, calls: [], connectionParams: null, signal: new AbortController().signal, url: null, accept: null, type: 'query' };

/** The path and raw input of a plain, unbatched GET query; undefined for anything else. */
function plainQuery(req: IncomingMessage, basePath: string): { path: string; input: string | null } | undefined {
  // Streaming (trpc-accept) and batched requests have their own response formats: the adapter's job.
  if (req.method !== 'GET' || req.headers['trpc-accept'] !== undefined) return undefined;
  const url = new URL(req.url ?? '/', 'http://hub');
  const path = url.pathname.slice(basePath.length);
  if (!url.pathname.startsWith(basePath) || !queries.has(path) || url.searchParams.has('batch')) return undefined;
  return { path, input: url.searchParams.get('input') };
}

/**
 * Plain GET queries answered through a server-side caller: the same procedures, middleware and
 * input schemas, without the adapter turning each request into a Fetch `Request` with abort
 * signals, which profiling showed to be most of a cached read's cost (docs/benchmarks.md). Only
 * successes are answered here, in the adapter's exact format; every error, and every other kind
 * of request, goes to the adapter, so error shapes and status codes have one source.
 */
export function fastQueries(options: {
  basePath: string;
  createContext: (options: CreateHTTPContextOptions) => Promise<Context>;
  adapter: RequestHandler;
  served?: () => void;
}): RequestHandler {
  const { basePath, createContext, adapter } = options;
  return async (req: IncomingMessage, res: ServerResponse) => {
    const query = plainQuery(req, basePath);
    if (!query) return adapter(req, res);
    let body: string;
    try {
      const input: unknown = query.input === null ? undefined : JSON.parse(query.input);
      const caller = createCaller(await createContext({ req, res, info: NO_INFO } as CreateHTTPContextOptions)) as unknown;
      const call = query.path.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], caller) as Call;
      body = JSON.stringify({ result: { data: await call(input) } });
    } catch {
      return adapter(req, res);
    }
    res.writeHead(200, { 'content-type': 'application/json', vary: 'trpc-accept, accept' });
    res.end(body);
    options.served?.();
  };
}

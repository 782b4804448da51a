import type { IncomingMessage, ServerResponse } from 'node:http';
import { callTRPCProcedure, getTRPCErrorFromUnknown, TRPCError } from '@trpc/server';
import { getHTTPStatusCode } from '@trpc/server/http';
import type { RequestHandler } from '../http/routes.ts';
import type { Context, ContextRequest } from './context.ts';
import { limitHeaders, type Admission } from './limits.ts';
import { QUERY_PATHS } from './procedures.ts';
import { appRouter } from './routers/_app.ts';
import { errorShape } from './trpc.ts';

const queries = new Set(QUERY_PATHS);

/** Headers the adapter sends with every plain query answer. */
const HEADERS: Readonly<Record<string, string>> = { 'content-type': 'application/json', vary: 'trpc-accept, accept' };

/** The path and raw input of a plain, unbatched GET query; undefined for anything else. */
function plainQuery(req: IncomingMessage, basePath: string): { path: string; input: string | null } | undefined {
  // Streaming (trpc-accept), batched, connection-parameter and typed-body requests have their own rules: the adapter's job.
  if (req.method !== 'GET' || req.headers['trpc-accept'] !== undefined || req.headers['content-type'] !== undefined) return undefined;
  const url = new URL(req.url ?? '/', 'http://hub');
  const path = url.pathname.slice(basePath.length);
  if (!url.pathname.startsWith(basePath) || !queries.has(path)) return undefined;
  if (url.searchParams.has('batch') || url.searchParams.has('connectionParams')) return undefined;
  return { path, input: url.searchParams.get('input') };
}

/**
 * The call's input read as the adapter reads a GET's: parsed once, none for a missing or empty
 * `input`, and JSON that does not parse is BAD_REQUEST with the parser's message and cause.
 */
function rawInput(text: string | null) {
  let parsed: { value: unknown } | undefined;
  return {
    read: async (): Promise<unknown> => {
      if (parsed) return parsed.value;
      if (!text) parsed = { value: undefined };
      else {
        try {
          parsed = { value: JSON.parse(text) };
        } catch (cause) {
          throw new TRPCError({ code: 'BAD_REQUEST', message: cause instanceof Error ? cause.message : 'Invalid input', cause });
        }
      }
      return parsed.value;
    },
    /** The input if it was read, for error reports. */
    result: (): unknown => parsed?.value,
  };
}

export interface FastQueryOptions {
  basePath: string;
  /** The adapter's admission: the same limits, counted together with the adapter's requests. */
  admission: Admission;
  clientOf: (req: IncomingMessage) => string;
  createContext: (request: ContextRequest) => Promise<Context>;
  /** The adapter's own error hook, so an error is reported once whichever path answered it. */
  onError: (report: { error: TRPCError; path: string; input: unknown; req: IncomingMessage }) => void;
  adapter: RequestHandler;
  served?: () => void;
}

/**
 * Plain GET queries answered without the standalone adapter, which turns each request into a
 * Fetch `Request` with abort signals; profiling showed that to be most of a cached read's cost
 * (docs/benchmarks.md). The call goes through tRPC's public `callTRPCProcedure` (the same
 * procedures, middleware and input schemas), and its answer, success or error, is written the
 * way the adapter writes it: the router's error shape and formatter (`errorShape`), tRPC's
 * status mapping (`getHTTPStatusCode`). A query that fails is answered here, never run again.
 * It is admitted first, by the adapter's own limits. Everything else (batches, streams,
 * mutations, subscriptions, unknown paths) goes to the adapter.
 */
export function fastQueries(options: FastQueryOptions): RequestHandler {
  const { basePath, admission, createContext, adapter } = options;
  return async (req: IncomingMessage, res: ServerResponse) => {
    const query = plainQuery(req, basePath);
    if (!query) return adapter(req, res);
    const { path } = query;
    const input = rawInput(query.input);
    let ctx: Context | undefined;
    let status = 200;
    let headers = HEADERS;
    let body: string;
    try {
      await admission.admit({ client: options.clientOf(req), type: 'query', calls: [{ path, getRawInput: input.read }] });
      ctx = await createContext({ authorization: req.headers.authorization });
      // No signal: the queries read nothing that a closed connection should cancel.
      const data = await callTRPCProcedure({ router: appRouter, path, getRawInput: input.read, ctx, type: 'query', signal: undefined, batchIndex: 0 });
      body = JSON.stringify({ result: { data } });
    } catch (cause) {
      const error = getTRPCErrorFromUnknown(cause);
      options.onError({ error, path, input: input.result(), req });
      const response = { error: errorShape({ error, type: 'query', path, input: input.result(), ctx }) };
      status = getHTTPStatusCode(response, [error]);
      headers = { ...HEADERS, ...limitHeaders([error]) };
      body = JSON.stringify(response);
    }
    res.writeHead(status, headers);
    res.end(body);
    options.served?.();
  };
}

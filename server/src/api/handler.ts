import type { IncomingMessage } from 'node:http';
import type { TRPCError } from '@trpc/server';
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import type { RequestHandler } from '../http/routes.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { contextFactory, type ApiServices } from './context.ts';
import { fastQueries } from './fast-queries.ts';
import { appRouter } from './routers/_app.ts';

/** Request bodies above this are refused with PAYLOAD_TOO_LARGE before parsing. */
export const MAX_BODY_BYTES = 64 * 1024;

const BASE_PATH = '/trpc/';

/** tRPC at /trpc; plain GET queries take the fast path unless `fast` is false (the benchmark compares both). */
export function createTrpcHandler(services: ApiServices, logger: Logger, options: { fast?: boolean; metrics?: Metrics } = {}): RequestHandler {
  const createContext = contextFactory(options.metrics ? { ...services, metrics: options.metrics } : services);
  // One report per failed call, from whichever path answered it.
  const onError = ({ error, path }: { error: TRPCError; path: string | undefined; req: IncomingMessage }) => {
    if (error.code === 'INTERNAL_SERVER_ERROR') logger.error({ err: error.cause ?? error, path }, 'procedure failed');
  };
  const adapter = createHTTPHandler({
    router: appRouter,
    basePath: BASE_PATH,
    maxBodySize: MAX_BODY_BYTES,
    createContext: ({ req, info }) => createContext({ authorization: req.headers.authorization, connectionToken: info.connectionParams?.token }),
    onError,
  });
  if (options.fast === false) return adapter;
  return fastQueries({ basePath: BASE_PATH, createContext, onError, adapter, served: () => options.metrics?.fastQueries.inc() });
}

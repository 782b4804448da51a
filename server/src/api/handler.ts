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
  const createContext = contextFactory(services);
  const adapter = createHTTPHandler({
    router: appRouter,
    basePath: BASE_PATH,
    maxBodySize: MAX_BODY_BYTES,
    createContext,
    onError({ error, path }) {
      if (error.code === 'INTERNAL_SERVER_ERROR') logger.error({ err: error.cause ?? error, path }, 'procedure failed');
    },
  });
  if (options.fast === false) return adapter;
  return fastQueries({ basePath: BASE_PATH, createContext, adapter, served: () => options.metrics?.fastQueries.inc() });
}

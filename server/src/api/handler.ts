import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import type { Logger } from '../observability/logger.ts';
import { contextFactory, type ApiServices } from './context.ts';
import { appRouter } from './routers/_app.ts';

/** Request bodies above this are refused with PAYLOAD_TOO_LARGE before parsing. */
export const MAX_BODY_BYTES = 64 * 1024;

export function createTrpcHandler(services: ApiServices, logger: Logger) {
  return createHTTPHandler({
    router: appRouter,
    basePath: '/trpc/',
    maxBodySize: MAX_BODY_BYTES,
    createContext: contextFactory(services),
    onError({ error, path }) {
      if (error.code === 'INTERNAL_SERVER_ERROR') logger.error({ err: error.cause ?? error, path }, 'procedure failed');
    },
  });
}

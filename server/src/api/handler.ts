import type { IncomingMessage } from 'node:http';
import type { TRPCError } from '@trpc/server';
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import { loadConfig } from '../config/env.ts';
import type { RequestHandler } from '../http/routes.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { contextFactory, type ApiServices } from './context.ts';
import { fastQueries } from './fast-queries.ts';
import { Admission, apiLimits, clientAddress, limitHeaders, type ApiLimits } from './limits.ts';
import { appRouter } from './routers/_app.ts';

/** Request bodies above this are refused with PAYLOAD_TOO_LARGE before parsing. */
export const MAX_BODY_BYTES = 64 * 1024;

const BASE_PATH = '/trpc/';

export interface TrpcHandlerOptions {
  /** false: every request goes through the standard adapter (the benchmark compares both). */
  fast?: boolean;
  metrics?: Metrics;
  /** Batch, day and rate limits; the configuration's defaults when left out. */
  limits?: ApiLimits;
}

/**
 * tRPC at /trpc. Every request is admitted (rate, batch size, days; `limits.ts`) before its
 * context is made, on the adapter and on the fast path for plain GET queries alike.
 */
export function createTrpcHandler(services: ApiServices, logger: Logger, options: TrpcHandlerOptions = {}): RequestHandler {
  const { metrics } = options;
  const limits = options.limits ?? apiLimits(loadConfig({}));
  const admission = new Admission(limits, (limit) => metrics?.trpcRefusals.inc({ limit }));
  const clientOf = (req: IncomingMessage) => clientAddress(req, limits.trustProxy);
  const createContext = contextFactory(metrics ? { ...services, metrics } : services);
  // One report per failed call, from whichever path answered it.
  const onError = ({ error, path }: { error: TRPCError; path: string | undefined; req: IncomingMessage }) => {
    if (error.code === 'INTERNAL_SERVER_ERROR') logger.error({ err: error.cause ?? error, path }, 'procedure failed');
  };
  const adapter = createHTTPHandler({
    router: appRouter,
    basePath: BASE_PATH,
    maxBodySize: MAX_BODY_BYTES,
    // A refusal thrown here is every call's error: tRPC answers each in its shape and runs none.
    async createContext({ req, info }) {
      await admission.admit({ client: clientOf(req), type: info.type, calls: info.calls });
      // Only where EventSource forces it (it cannot set headers): a token in the URL lands in access logs.
      const connectionToken = info.type === 'subscription' ? info.connectionParams?.token : undefined;
      return createContext({ authorization: req.headers.authorization, connectionToken });
    },
    responseMeta: ({ errors }) => ({ headers: limitHeaders(errors) }),
    onError,
  });
  if (options.fast === false) return adapter;
  return fastQueries({ basePath: BASE_PATH, admission, clientOf, createContext, onError, adapter, served: () => metrics?.fastQueries.inc() });
}

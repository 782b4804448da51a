import {
  createTRPCClient,
  httpBatchLink,
  httpSubscriptionLink,
  splitLink,
  type TRPCClient,
} from '@trpc/client';
import { DEFAULT_MAX_BATCH_CALLS } from '@slotcast/shared';
import type { AppRouter } from './router.ts';

export type { AppRouter };

type Token = string | undefined | null;

export interface SlotcastClientOptions {
  /** The hub's base URL, such as http://localhost:3000 (the client adds /trpc). */
  url: string;
  /** A bearer token, or a function that returns the current one (so it can be replaced before it expires). */
  token?: Token | (() => Token | Promise<Token>);
  /** For runtimes without a global EventSource (Node 20): pass the `eventsource` package's class. */
  EventSource?: typeof globalThis.EventSource;
  fetch?: typeof globalThis.fetch;
  /** Calls per batched request: the hub's TRPC_MAX_BATCH_CALLS (more is refused); default DEFAULT_MAX_BATCH_CALLS. */
  maxBatchCalls?: number;
}

export type SlotcastClient = TRPCClient<AppRouter>;

/**
 * The typed tRPC client: queries and mutations batched over HTTP with a bearer header,
 * subscriptions over SSE with the token in connection params (EventSource cannot set headers).
 */
export function createSlotcastClient(options: SlotcastClientOptions): SlotcastClient {
  const url = `${options.url.replace(/\/+$/, '')}/trpc`;
  const currentToken = async () => (typeof options.token === 'function' ? await options.token() : options.token) ?? undefined;
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: httpSubscriptionLink({
          url,
          EventSource: options.EventSource,
          connectionParams: async () => {
            const token = await currentToken();
            return token ? { token } : {};
          },
        }),
        false: httpBatchLink({
          url,
          fetch: options.fetch,
          maxItems: options.maxBatchCalls ?? DEFAULT_MAX_BATCH_CALLS,
          headers: async () => {
            const token = await currentToken();
            return token ? { authorization: `Bearer ${token}` } : {};
          },
        }),
      }),
    ],
  });
}

import {
  createTRPCClient,
  httpBatchLink,
  httpSubscriptionLink,
  splitLink,
  type TRPCClient,
} from '@trpc/client';
import { DEFAULT_MAX_BATCH_CALLS } from '@slotcast/shared';
import type { BackoffOptions } from './backoff.ts';
import { renewalLink } from './renewal.ts';
import type { AppRouter } from './router.ts';

export type { AppRouter };

type Token = string | undefined | null;

export interface SlotcastClientOptions {
  /** The hub's base URL, such as http://localhost:3000 (the client adds /trpc). */
  url: string;
  /**
   * A bearer token, or a function that returns the current one. The hub ends an SSE stream when
   * its token expires; with a function, the client asks it for a fresh token and subscribes
   * again, resuming where the stream stopped. With a fixed token the subscription ends with
   * `onError` UNAUTHORIZED.
   */
  token?: Token | (() => Token | Promise<Token>);
  /** Delays between renewals that the hub keeps refusing (a token function handing out bad tokens); default DEFAULT_BACKOFF. */
  backoff?: BackoffOptions;
  /** For runtimes without a global EventSource (Node 20): pass the `eventsource` package's class. */
  EventSource?: typeof globalThis.EventSource;
  fetch?: typeof globalThis.fetch;
  /** Calls per batched request: the hub's TRPC_MAX_BATCH_CALLS (more is refused); default DEFAULT_MAX_BATCH_CALLS. */
  maxBatchCalls?: number;
}

export type SlotcastClient = TRPCClient<AppRouter>;

/**
 * The typed tRPC client: queries and mutations batched over HTTP with a bearer header,
 * subscriptions over SSE with the token in connection params (EventSource cannot set headers),
 * renewed at the token's expiry when `token` is a function.
 */
export function createSlotcastClient(options: SlotcastClientOptions): SlotcastClient {
  const url = `${options.url.replace(/\/+$/, '')}/trpc`;
  const currentToken = async () => (typeof options.token === 'function' ? await options.token() : options.token) ?? undefined;
  return createTRPCClient<AppRouter>({
    links: [
      ...(typeof options.token === 'function' ? [renewalLink({ backoff: options.backoff })] : []),
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

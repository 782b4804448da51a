import type { TRPCClientError, TRPCLink } from '@trpc/client';
import { observable, type Unsubscribable } from '@trpc/server/observable';
import { DEFAULT_BACKOFF, fullJitter, type BackoffOptions } from './backoff.ts';
import type { AppRouter } from './router.ts';

/** A renewed stream that ends sooner than this counts as refused: a token function handing out near-dead tokens backs off. */
const SHORTEST_RENEWED_STREAM_MS = 1_000;

/**
 * Renews SSE subscriptions the hub ends or refuses with UNAUTHORIZED (a token that expired), as
 * the Socket.IO client reconnects: subscribing again asks the token function for a fresh token
 * (httpSubscriptionLink evaluates connectionParams per connection), and the new stream resumes
 * from the id the hub's expiry error names (`data.lastEventId`), else from the last tracked id
 * received, so nothing is lost or sent twice. A stream ended at expiry is renewed at once;
 * refusals in a row wait with full-jitter backoff. Only for clients given a token function: a
 * fixed token would be refused again.
 *
 * tRPC's retryLink does not fit: it resumes only from ids it saw (an empty snapshot carries
 * none, so events in the renewal's gap were folded into a new snapshot and lost), and its
 * attempt count never resets, so a bound on it ends long-lived subscriptions and its delays
 * grow with every hourly renewal.
 */
export function renewalLink(options: { backoff?: BackoffOptions } = {}): TRPCLink<AppRouter> {
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  return () =>
    ({ op, next }) => {
      if (op.type !== 'subscription') return next(op);
      return observable((observer) => {
        const input = (op.input ?? {}) as { lastEventId?: string | null };
        let lastEventId = input.lastEventId ?? undefined;
        let refusals = 0;
        let current: Unsubscribable | undefined;
        let timer: ReturnType<typeof setTimeout> | undefined;
        let closed = false;

        const renew = (error: TRPCClientError<AppRouter>, openedAt: number) => {
          const resumeAt = error.data?.lastEventId;
          if (resumeAt !== undefined) lastEventId = resumeAt;
          // Ended at expiry after a useful life: renew at once. Refused, or dead on arrival: back off.
          const ranItsCourse = resumeAt !== undefined && Date.now() - openedAt >= SHORTEST_RENEWED_STREAM_MS;
          refusals = ranItsCourse ? 0 : refusals + 1;
          // The first refusal is tried again at once too: it is usually an EventSource reconnect that sent the old token.
          const delay = refusals <= 1 ? 0 : fullJitter(refusals - 2, backoff);
          observer.next({ result: { type: 'state', state: 'connecting', error } });
          timer = setTimeout(attempt, delay);
        };

        const attempt = () => {
          if (closed) return;
          const openedAt = Date.now();
          const resumed = lastEventId === undefined ? op : { ...op, input: { ...input, lastEventId } };
          current = next(resumed).subscribe({
            next(envelope) {
              const { result } = envelope;
              if ((!('type' in result) || result.type === 'data' || result.type === undefined) && 'id' in result && typeof result.id === 'string') {
                lastEventId = result.id;
              }
              observer.next(envelope);
            },
            error(error) {
              if (closed) return;
              if (error.data?.code === 'UNAUTHORIZED') renew(error, openedAt);
              else observer.error(error);
            },
            complete() {
              observer.complete();
            },
          });
        };

        attempt();
        return () => {
          closed = true;
          clearTimeout(timer);
          current?.unsubscribe();
        };
      });
    };
}

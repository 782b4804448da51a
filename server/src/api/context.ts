import type { RefreshResult } from '@slotcast/shared';
import type { AvailabilityReads } from '../availability/reads.ts';
import type { RefreshScope } from '../availability/writes.ts';
import type { Bookings } from '../guard/bookings.ts';
import type { Holds } from '../guard/holds.ts';
import type { Waitlist } from '../guard/waitlist.ts';
import type { EventLog } from '../broadcast/event-log.ts';
import type { Metrics } from '../observability/metrics.ts';
import { AuthError, bearerToken, type Principal, type Tokens } from '../auth/tokens.ts';

/** What procedures use; one per hub, shared by every request. */
export interface ApiServices {
  reads: AvailabilityReads;
  /** The admin refresh: the one call into the write side (recompute and publish a scope). */
  refresh(scope: RefreshScope): Promise<RefreshResult>;
  holds: Holds;
  bookings: Bookings;
  waitlist: Waitlist;
  events: EventLog;
  tokens: Tokens;
  /** Where procedures are counted (`slotcast_trpc_calls_total`); none in tests that build services by hand. */
  metrics?: Pick<Metrics, 'trpcCalls'>;
}

export interface Context {
  services: ApiServices;
  principal: Principal | null;
  /** Set when a token was sent but did not verify; every procedure then answers UNAUTHORIZED. */
  authError?: string;
}

/** What the context needs from a request, whatever the transport (the adapter, the fast query path). */
export interface ContextRequest {
  /** The Authorization header as received. */
  authorization: string | string[] | undefined;
  /** `connectionParams.token`: SSE (EventSource) cannot set headers, so it sends the token there. */
  connectionToken?: string | undefined;
}

/** The part of the context that does not depend on HTTP, for tests and other transports. */
export async function createContextInner(services: ApiServices, token: string | undefined): Promise<Context> {
  if (!token) return { services, principal: null };
  try {
    return { services, principal: await services.tokens.verify(token) };
  } catch (error) {
    if (!(error instanceof AuthError)) throw error;
    return { services, principal: null, authError: error.message };
  }
}

/** The bearer header for queries and mutations; the connection parameter's token when there is no header. */
export function contextFactory(services: ApiServices) {
  return async ({ authorization, connectionToken }: ContextRequest): Promise<Context> => {
    const token = bearerToken(authorization);
    // A credential that is present but not a bearer token is refused, not silently ignored.
    if (authorization !== undefined && !token) return { services, principal: null, authError: 'Authorization must be "Bearer <token>"' };
    return createContextInner(services, token ?? connectionToken);
  };
}

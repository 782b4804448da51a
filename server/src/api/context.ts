import type { CreateHTTPContextOptions } from '@trpc/server/adapters/standalone';
import type { RefreshResult } from '@slotcast/shared';
import type { AvailabilityReads } from '../availability/reads.ts';
import type { RefreshScope } from '../availability/writes.ts';
import type { EventLog } from '../broadcast/event-log.ts';
import { AuthError, bearerToken, type Principal, type Tokens } from '../auth/tokens.ts';

/** What procedures use; one per hub, shared by every request. */
export interface ApiServices {
  reads: AvailabilityReads;
  /** The admin refresh: the one call into the write side (recompute and publish a scope). */
  refresh(scope: RefreshScope): Promise<RefreshResult>;
  events: EventLog;
  tokens: Tokens;
}

export interface Context {
  services: ApiServices;
  principal: Principal | null;
  /** Set when a token was sent but did not verify; every procedure then answers UNAUTHORIZED. */
  authError?: string;
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

/** Bearer header for queries and mutations; SSE (EventSource) cannot set headers, so it sends `connectionParams.token`. */
export function contextFactory(services: ApiServices) {
  return async ({ req, info }: CreateHTTPContextOptions): Promise<Context> => {
    const header = req.headers.authorization;
    const token = bearerToken(header);
    // A credential that is present but not a bearer token is refused, not silently ignored.
    if (header !== undefined && !token) return { services, principal: null, authError: 'Authorization must be "Bearer <token>"' };
    return createContextInner(services, token ?? info.connectionParams?.token ?? undefined);
  };
}

import { AUTH_ERROR, CONNECT_ERROR, type AuthAck } from '@slotcast/shared';
import { AuthError, type Principal, type Tokens } from '../auth/tokens.ts';
import type { Logger } from '../observability/logger.ts';
import type { HubSocket } from './types.ts';

/** setTimeout's limit; a token further out is checked again when this fires. */
const MAX_TIMER_MS = 2_147_483_647;

/** Handshake: no token is anonymous; a bad, expired or wrongly signed one is refused with UNAUTHORIZED. */
export function authenticate(tokens: Tokens) {
  return async (socket: HubSocket, next: (error?: Error) => void) => {
    socket.data.channels = new Set();
    const token: unknown = socket.handshake.auth?.token;
    if (token === undefined || token === null || token === '') {
      socket.data.principal = null;
      return next();
    }
    try {
      if (typeof token !== 'string') throw new AuthError('token must be a string');
      socket.data.principal = await tokens.verify(token);
      next();
    } catch (error) {
      if (!(error instanceof AuthError)) return next(error as Error);
      next(Object.assign(new Error(CONNECT_ERROR.UNAUTHORIZED), { data: { reason: error.message } }));
    }
  };
}

/**
 * A socket's token over its life: checked at the handshake, replaced by `auth` before it
 * expires (for the same user only), and the socket dropped at expiry.
 */
export function tokenLifetime(tokens: Tokens, logger: Logger) {
  const expiry = new WeakMap<HubSocket, NodeJS.Timeout>();

  /** Drops the socket when its token expires; called again after the token is replaced. */
  const scheduleExpiry = (socket: HubSocket, principal: Principal | null): void => {
    clearTimeout(expiry.get(socket));
    if (!principal?.expiresAt) return;
    const due = principal.expiresAt * 1000 - Date.now();
    const timer = setTimeout(() => {
      if (due > MAX_TIMER_MS) return scheduleExpiry(socket, principal);
      socket.disconnect(true);
    }, Math.max(0, Math.min(due, MAX_TIMER_MS)));
    expiry.set(socket, timer);
  };

  const replace = async (socket: HubSocket, request: unknown): Promise<AuthAck> => {
    const token: unknown = (request as { token?: unknown } | null)?.token;
    if (typeof token !== 'string') return { ok: false, error: { code: AUTH_ERROR.UNAUTHORIZED, message: 'token must be a string' } };
    let principal: Principal;
    try {
      principal = await tokens.verify(token);
    } catch (error) {
      if (!(error instanceof AuthError)) logger.error({ err: error }, 'token check failed');
      return { ok: false, error: { code: AUTH_ERROR.UNAUTHORIZED, message: error instanceof Error ? error.message : 'invalid token' } };
    }
    const current = socket.data.principal;
    if (current && current.userId !== principal.userId) {
      return { ok: false, error: { code: AUTH_ERROR.FORBIDDEN, message: 'a replacement token must be for the same user' } };
    }
    socket.data.principal = principal;
    scheduleExpiry(socket, principal);
    return { ok: true, expiresAt: principal.expiresAt };
  };

  return {
    /** Starts watching a connected socket's token; stops when it disconnects. */
    watch(socket: HubSocket): void {
      scheduleExpiry(socket, socket.data.principal);
      socket.on('disconnect', () => clearTimeout(expiry.get(socket)));
      socket.on('auth', (request, ack) => {
        if (typeof ack === 'function') void replace(socket, request).then(ack);
      });
    },
  };
}

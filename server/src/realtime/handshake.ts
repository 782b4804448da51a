import { CONNECT_ERROR } from '@slotcast/shared';
import { AuthError, type Principal, type Tokens } from '../auth/tokens.ts';
import type { HubSocket } from './types.ts';

/** setTimeout's limit; a token further out is checked again when this fires. */
const MAX_TIMER_MS = 2_147_483_647;

/** Handshake: no token is anonymous; a bad, expired or wrongly signed one is refused with UNAUTHORIZED. */
export function authenticate(tokens: Tokens) {
  return async (socket: HubSocket, next: (error?: Error) => void) => {
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

/** Drops the socket when its token expires; call again after the token is replaced. */
export function scheduleExpiry(socket: HubSocket, principal: Principal | null, timers: WeakMap<HubSocket, NodeJS.Timeout>): void {
  clearTimeout(timers.get(socket));
  if (!principal?.expiresAt) return;
  const due = principal.expiresAt * 1000 - Date.now();
  const timer = setTimeout(() => {
    if (due > MAX_TIMER_MS) return scheduleExpiry(socket, principal, timers);
    socket.disconnect(true);
  }, Math.max(0, Math.min(due, MAX_TIMER_MS)));
  timers.set(socket, timer);
}

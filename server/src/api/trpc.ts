import { initTRPC, TRPCError } from '@trpc/server';
import { ZodError } from 'zod';
import { NotFoundError } from '../availability/errors.ts';
import { hasRole } from '../auth/tokens.ts';
import type { Context } from './context.ts';

/** Turns a zod failure into one readable line naming each bad field. */
function describeIssues(error: ZodError): { message: string; fields: string[] } {
  const named = error.issues.map((issue) => {
    const at = issue.path.map(String).join('.');
    // An unknown key is the field at fault, not the object that holds it.
    const keys = issue.code === 'unrecognized_keys' ? issue.keys.map((key) => (at ? `${at}.${key}` : key)) : [at || 'input'];
    return { keys, text: `${keys.join(', ')}: ${issue.message}` };
  });
  return { message: named.map((n) => n.text).join('; '), fields: [...new Set(named.flatMap((n) => n.keys))] };
}

const BAD_REQUEST_RPC_CODE = -32600;

const t = initTRPC.context<Context>().create({
  isDev: false,
  errorFormatter({ shape, error }) {
    if (error.code === 'BAD_REQUEST' && error.cause instanceof ZodError) {
      const { message, fields } = describeIssues(error.cause);
      return { ...shape, message, data: { ...shape.data, fields } };
    }
    // The contract has one code for bad input; JSON that does not parse is bad input too.
    if (error.code === 'PARSE_ERROR') {
      return { ...shape, code: BAD_REQUEST_RPC_CODE, message: `input: ${error.message}`, data: { ...shape.data, code: 'BAD_REQUEST' as const, fields: ['input'] } };
    }
    return shape;
  },
  sse: {
    // Comments every 15 s keep proxies from closing idle streams; clients reconnect after 40 s of silence.
    ping: { enabled: true, intervalMs: 15_000 },
    client: { reconnectAfterInactivityMs: 40_000 },
  },
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/** The one place engine errors get their API codes; anything else stays as it is. */
export function toApiError(error: unknown): unknown {
  const cause = error instanceof TRPCError && error.cause ? error.cause : error;
  if (cause instanceof NotFoundError) return new TRPCError({ code: 'NOT_FOUND', message: cause.message, cause });
  return error;
}

/** Every procedure: a bad token is refused even where none is needed, and engine errors get their codes. */
export const publicProcedure = t.procedure.use(async ({ ctx, next }) => {
  if (ctx.authError) throw new TRPCError({ code: 'UNAUTHORIZED', message: ctx.authError });
  const result = await next();
  if (!result.ok) {
    const mapped = toApiError(result.error);
    if (mapped !== result.error) throw mapped;
  }
  return result;
});

const requireRole = (...roles: ('staff' | 'admin')[]) =>
  publicProcedure.use(({ ctx, next }) => {
    if (!ctx.principal) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'a bearer token is required' });
    if (!hasRole(ctx.principal, ...roles)) {
      throw new TRPCError({ code: 'FORBIDDEN', message: `needs the role ${roles.join(' or ')}` });
    }
    return next({ ctx: { ...ctx, principal: ctx.principal } });
  });

export const staffProcedure = requireRole('staff', 'admin');
export const adminProcedure = requireRole('admin');

import { initTRPC, TRPCError, type TRPCDefaultErrorData, type TRPCDefaultErrorShape, type TRPCErrorFormatter } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import { TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/rpc';
import { ZodError } from 'zod';
import { NotFoundError } from '../availability/errors.ts';
import { ForbiddenError, GuardError, InputError } from '../guard/errors.ts';
import { StreamExpiredError } from './stream.ts';
import { unavailableService } from './unavailable.ts';
import type { GuardReason } from '@slotcast/shared';
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

const BAD_REQUEST_RPC_CODE = TRPC_ERROR_CODES_BY_KEY.BAD_REQUEST;

/** Every error body the API sends: tRPC's default shape, plus the fields at fault on bad input. */
export type ApiErrorShape = TRPCDefaultErrorShape & {
  data: TRPCDefaultErrorData & { fields?: string[]; reason?: GuardReason; available?: number; lastEventId?: string };
};

type FormatterOptions = Parameters<TRPCErrorFormatter<Context, ApiErrorShape>>[0];

/**
 * The router's error formatter, named so the fast query path applies the same one (through
 * `errorShape`) as the adapter does: bad input is BAD_REQUEST naming the field.
 */
export function errorFormatter({ shape, error }: FormatterOptions): ApiErrorShape {
  // A refused guarded write says why, and with INSUFFICIENT how many places there are.
  if (error.cause instanceof GuardError) {
    const { reason, available } = error.cause;
    return { ...shape, data: { ...shape.data, reason, ...(available === undefined ? {} : { available }) } };
  }
  // An SSE stream ended at its token's expiry names the id to resume from.
  if (error.cause instanceof StreamExpiredError) return { ...shape, data: { ...shape.data, lastEventId: error.cause.lastEventId } };
  if (error.cause instanceof InputError) return { ...shape, data: { ...shape.data, fields: [error.cause.field] } };
  if (error.code === 'BAD_REQUEST' && error.cause instanceof ZodError) {
    const { message, fields } = describeIssues(error.cause);
    return { ...shape, message, data: { ...shape.data, fields } };
  }
  // tRPC reports input that is not JSON as BAD_REQUEST with the parser's SyntaxError; the field at fault is the input.
  if (error.code === 'BAD_REQUEST' && error.cause instanceof SyntaxError) {
    return { ...shape, message: `input: ${error.message}`, data: { ...shape.data, fields: ['input'] } };
  }
  // The contract has one code for bad input; connection parameters that do not parse are bad input too.
  if (error.code === 'PARSE_ERROR') {
    return { ...shape, code: BAD_REQUEST_RPC_CODE, message: `input: ${error.message}`, data: { ...shape.data, code: 'BAD_REQUEST' as const, fields: ['input'] } };
  }
  return shape;
}

/**
 * The body of an error as the adapter sends it, for answers made outside the adapter: tRPC's
 * default shape, built from its public code table and status mapping exactly as its
 * `getDefaultErrorShape` does with `isDev: false` (message, code, data.code, data.httpStatus,
 * data.path), then this router's formatter. tests/api/fast-queries.test.ts holds the two equal.
 */
export function errorShape(options: Omit<FormatterOptions, 'shape'>): ApiErrorShape {
  const { error, path } = options;
  const data: TRPCDefaultErrorData = { code: error.code, httpStatus: getHTTPStatusCodeFromError(error) };
  if (path !== undefined) data.path = path;
  return errorFormatter({ ...options, shape: { message: error.message, code: TRPC_ERROR_CODES_BY_KEY[error.code], data } });
}

const t = initTRPC.context<Context>().create({
  isDev: false,
  errorFormatter,
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
  if (cause instanceof GuardError) return new TRPCError({ code: 'CONFLICT', message: cause.message, cause });
  if (cause instanceof ForbiddenError) return new TRPCError({ code: 'FORBIDDEN', message: cause.message, cause });
  if (cause instanceof InputError) return new TRPCError({ code: 'BAD_REQUEST', message: cause.message, cause });
  const down = unavailableService(cause);
  if (down) return new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: `${down} is not answering; retry shortly`, cause });
  return error;
}

/** Counts every procedure that ran, by path and outcome: how tests see that a call ran once, or not at all. */
const counted = t.middleware(async ({ ctx, path, next }) => {
  const result = await next();
  ctx.services.metrics?.trpcCalls.inc({ path, code: result.ok ? 'OK' : result.error.code });
  return result;
});

/** Every procedure: a bad token is refused even where none is needed, and engine errors get their codes. */
export const publicProcedure = t.procedure.use(counted).use(async ({ ctx, next }) => {
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
    if (roles.length > 0 && !hasRole(ctx.principal, ...roles)) {
      throw new TRPCError({ code: 'FORBIDDEN', message: `needs the role ${roles.join(' or ')}` });
    }
    return next({ ctx: { ...ctx, principal: ctx.principal } });
  });

export const staffProcedure = requireRole('staff', 'admin');
/** A procedure that acts for a user: a token with `sub` is needed, any role. */
export const userProcedure = requireRole();
export const adminProcedure = requireRole('admin');

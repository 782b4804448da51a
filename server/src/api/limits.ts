import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { TRPCError, type TRPCProcedureType } from '@trpc/server';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { Config } from '../config/env.ts';
import { daysOfCall } from './procedures.ts';

/** A fixed window: `points` per `windowSeconds`; 0 points means no limit. */
export interface Rate {
  points: number;
  windowSeconds: number;
}

/** What one client may ask of the tRPC endpoint (env.ts documents each, with its default). */
export interface ApiLimits {
  maxBatchCalls: number;
  maxDaysPerRequest: number;
  requests: Rate;
  subscriptions: Rate;
  /** Proxies whose X-Forwarded-For entries are believed (see `clientAddress`). */
  trustProxy: number;
}

export function apiLimits(config: Config): ApiLimits {
  return {
    maxBatchCalls: config.TRPC_MAX_BATCH_CALLS,
    maxDaysPerRequest: config.TRPC_MAX_DAYS_PER_REQUEST,
    requests: { points: config.TRPC_RATE_LIMIT_REQUESTS, windowSeconds: config.TRPC_RATE_LIMIT_WINDOW_SECONDS },
    subscriptions: { points: config.SSE_RATE_LIMIT_OPENS, windowSeconds: config.SSE_RATE_LIMIT_WINDOW_SECONDS },
    trustProxy: config.TRUST_PROXY,
  };
}

export type LimitName = 'requests' | 'subscriptions' | 'batch' | 'days';

/** The cause of a refusal: which limit, and for a rate limit how long until the client may retry. */
export class LimitError extends Error {
  constructor(
    readonly limit: LimitName,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'LimitError';
  }
}

/** One call of a request, as tRPC's request info describes it (and the fast path builds it). */
export interface AdmittedCall {
  path: string;
  getRawInput(): Promise<unknown>;
}

export interface AdmissionRequest {
  client: string;
  type: TRPCProcedureType | 'unknown';
  calls: readonly AdmittedCall[];
}

const limiterOf = (rate: Rate) => (rate.points > 0 ? new RateLimiterMemory({ points: rate.points, duration: rate.windowSeconds }) : undefined);

/**
 * The checks every tRPC request passes before its context exists, so a refused request runs no
 * procedure and reads nothing: the client's rate (requests, or subscriptions opened), then the
 * number of calls, then the days they would read. Rates are counted in this instance's memory:
 * behind a load balancer that spreads one client over N instances it gets up to N times the rate,
 * while no request waits on a Redis round trip and a Redis outage cannot refuse or admit everyone.
 */
export class Admission {
  private readonly requests: RateLimiterMemory | undefined;
  private readonly subscriptions: RateLimiterMemory | undefined;

  constructor(
    readonly limits: ApiLimits,
    private readonly onRefusal: (limit: LimitName) => void = () => undefined,
  ) {
    this.requests = limiterOf(limits.requests);
    this.subscriptions = limiterOf(limits.subscriptions);
  }

  /** Resolves when the request may run; throws the TRPCError to answer it with otherwise. */
  async admit({ client, type, calls }: AdmissionRequest): Promise<void> {
    if (type === 'subscription') {
      const { points, windowSeconds } = this.limits.subscriptions;
      await this.take(this.subscriptions, client, 'subscriptions', `at most ${points} subscriptions opened per ${windowSeconds} s from one client`);
    } else {
      const { points, windowSeconds } = this.limits.requests;
      await this.take(this.requests, client, 'requests', `at most ${points} requests per ${windowSeconds} s from one client`);
    }
    const { maxBatchCalls, maxDaysPerRequest } = this.limits;
    if (calls.length > maxBatchCalls) {
      this.refuse('batch', 'PAYLOAD_TOO_LARGE', `batch: ${calls.length} calls in one request; at most ${maxBatchCalls}`);
    }
    let days = 0;
    for (const call of calls) days += daysOfCall(call.path, await inputOf(call));
    if (days > maxDaysPerRequest) {
      this.refuse('days', 'PAYLOAD_TOO_LARGE', `days: the calls of this request read ${days} days; at most ${maxDaysPerRequest} per request`);
    }
  }

  private async take(limiter: RateLimiterMemory | undefined, client: string, limit: LimitName, rule: string): Promise<void> {
    if (!limiter) return;
    try {
      await limiter.consume(client);
    } catch (rejection) {
      // The memory store rejects only with the client's state; anything else is a fault, not a refusal.
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      const retryAfter = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      this.refuse(limit, 'TOO_MANY_REQUESTS', rule, retryAfter);
    }
  }

  private refuse(limit: LimitName, code: 'TOO_MANY_REQUESTS' | 'PAYLOAD_TOO_LARGE', message: string, retryAfter?: number): never {
    this.onRefusal(limit);
    throw new TRPCError({ code, message, cause: new LimitError(limit, message, retryAfter) });
  }
}

/**
 * A call's raw input, or undefined when it cannot be read (not JSON, a body over the size limit):
 * that is the call's own error, which its procedure reports after the token and role checks, as
 * before; the call computes nothing, so it counts no days here. tRPC keeps the read's result, so
 * the input is parsed once either way.
 */
async function inputOf(call: AdmittedCall): Promise<unknown> {
  try {
    return await call.getRawInput();
  } catch (error) {
    if (error instanceof TRPCError) return undefined;
    throw error;
  }
}

/** The Retry-After header for an answer whose errors include a rate refusal. */
export function limitHeaders(errors: readonly TRPCError[]): Record<string, string> {
  const waits = errors.flatMap((error) => (error.cause instanceof LimitError && error.cause.retryAfterSeconds !== undefined ? [error.cause.retryAfterSeconds] : []));
  return waits.length > 0 ? { 'retry-after': String(Math.max(...waits)) } : {};
}

const unmapped = (address: string) => (address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address);

/**
 * Who a request is from, for rate limits. With `trustProxy` 0 it is the socket's address: the
 * X-Forwarded-For header is the client's to write, so believing it would let anyone pick a fresh
 * identity per request. With N trusted proxies, each appends the address it received from, so the
 * N-th entry from the right is the one the outermost trusted proxy saw (the leftmost when there
 * are fewer). An entry that is not an IP address is no identity: the socket's address is used.
 */
export function clientAddress(req: IncomingMessage, trustProxy: number): string {
  const socket = unmapped(req.socket.remoteAddress ?? 'unknown');
  const header = req.headers['x-forwarded-for'];
  if (trustProxy === 0 || header === undefined) return socket;
  const hops = (Array.isArray(header) ? header.join(',') : header)
    .split(',')
    .map((hop) => hop.trim())
    .filter(Boolean);
  const chosen = hops[Math.max(0, hops.length - trustProxy)];
  return chosen !== undefined && isIP(chosen) ? unmapped(chosen) : socket;
}

import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { channelName, parseChannel, SUBSCRIBE_ERROR, type SubscribeAck, type SubscribeErrorCode, type UnsubscribeAck } from '@slotcast/shared';
import type { AvailabilityReads } from '../availability/reads.ts';
import { NotFoundError } from '../availability/errors.ts';
import { channelAccess } from '../auth/channel-access.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { HubSocket } from './types.ts';

/** Abuse limits, per socket. */
export const LIMITS = {
  /** Channels one socket may hold at once. */
  channels: 100,
  /** Subscribe and unsubscribe requests per window. */
  requests: 150,
  windowSeconds: 10,
  /** Refused requests after which the socket is dropped. */
  refusalsBeforeDrop: 200,
} as const;

const refuse = (code: SubscribeErrorCode, message: string) => ({ ok: false as const, error: { code, message } });

/** Reads `{ channel }` from whatever the client sent, without trusting its shape. */
function channelOf(request: unknown): string | undefined {
  if (typeof request !== 'object' || request === null) return undefined;
  const channel = (request as { channel?: unknown }).channel;
  return typeof channel === 'string' ? channel : undefined;
}

export function subscriptionHandlers(deps: { reads: AvailabilityReads; logger: Logger; metrics: Metrics }) {
  const limiter = new RateLimiterMemory({ points: LIMITS.requests, duration: LIMITS.windowSeconds });
  const refusals = new WeakMap<HubSocket, number>();

  const refused = (socket: HubSocket, reply: { ok: false; error: { code: SubscribeErrorCode; message: string } }) => {
    deps.metrics.subscribeRefusals.inc({ code: reply.error.code });
    const count = (refusals.get(socket) ?? 0) + 1;
    refusals.set(socket, count);
    if (count >= LIMITS.refusalsBeforeDrop) socket.disconnect(true);
    return reply;
  };

  /** False when the socket is over its limit; any other limiter failure is an error, not a rate limit. */
  const allowed = async (socket: HubSocket) => {
    try {
      await limiter.consume(socket.id);
      return true;
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) return false;
      throw rejection;
    }
  };

  async function subscribe(socket: HubSocket, request: unknown): Promise<SubscribeAck> {
    if (!(await allowed(socket))) return refused(socket, refuse(SUBSCRIBE_ERROR.RATE_LIMITED, `at most ${LIMITS.requests} requests per ${LIMITS.windowSeconds} s`));
    const channel = parseChannel(channelOf(request));
    if (!channel) return refused(socket, refuse(SUBSCRIBE_ERROR.INVALID_CHANNEL, 'not a channel name (see the contract: availability, availability.YYYY-MM-DD, availability.session.<id>, availability.user.<userId>)'));
    const room = channelName(channel);
    const denied = channelAccess(channel, socket.data.principal);
    if (denied) return refused(socket, refuse(denied, 'a user channel is only for the token whose sub is that user'));
    const joined = socket.rooms.size - 1;
    if (!socket.rooms.has(room) && joined >= LIMITS.channels) {
      return refused(socket, refuse(SUBSCRIBE_ERROR.TOO_MANY_SUBSCRIPTIONS, `at most ${LIMITS.channels} channels per connection`));
    }
    // Join before reading the snapshot: an update between the two arrives as an event, never falls between.
    await socket.join(room);
    try {
      return { ok: true, channel: room, snapshot: await deps.reads.snapshotOf(channel) };
    } catch (error) {
      await socket.leave(room);
      if (error instanceof NotFoundError) return refused(socket, refuse(SUBSCRIBE_ERROR.NOT_FOUND, error.message));
      deps.logger.error({ err: error, channel: room }, 'subscribe failed');
      return refuse(SUBSCRIBE_ERROR.INTERNAL, 'the snapshot could not be read; try again');
    }
  }

  async function unsubscribe(socket: HubSocket, request: unknown): Promise<UnsubscribeAck> {
    if (!(await allowed(socket))) return refused(socket, refuse(SUBSCRIBE_ERROR.RATE_LIMITED, `at most ${LIMITS.requests} requests per ${LIMITS.windowSeconds} s`));
    const channel = parseChannel(channelOf(request));
    if (!channel) return refused(socket, refuse(SUBSCRIBE_ERROR.INVALID_CHANNEL, 'not a channel name'));
    await socket.leave(channelName(channel));
    return { ok: true };
  }

  return { subscribe, unsubscribe };
}

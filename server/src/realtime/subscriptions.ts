import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { channelName, deliveryRooms, parseChannel, SUBSCRIBE_ERROR, type SubscribeAck, type SubscribeErrorCode, type UnsubscribeAck } from '@slotcast/shared';
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

export function subscriptionHandlers(deps: { reads: AvailabilityReads; logger: Logger; metrics: Metrics; subscribed?: (rooms: string[]) => Promise<void> }) {
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
    if (!channel) return refused(socket, refuse(SUBSCRIBE_ERROR.INVALID_CHANNEL, 'not a channel name (availability, availability.YYYY-MM-DD, availability.range.<from>.<to> of at most 31 days, availability.session.<id>, availability.user.<userId>)'));
    const room = channelName(channel);
    const denied = channelAccess(channel, socket.data.principal);
    if (denied) return refused(socket, refuse(denied, 'a user channel is only for the token whose sub is that user'));
    const { channels } = socket.data;
    if (!channels.has(room) && channels.size >= LIMITS.channels) {
      return refused(socket, refuse(SUBSCRIBE_ERROR.TOO_MANY_SUBSCRIPTIONS, `at most ${LIMITS.channels} channels per connection`));
    }
    const subscribedBefore = channels.has(room);
    // Join before reading the snapshot: an update between the two arrives as an event, never falls between.
    channels.add(room);
    const rooms = deliveryRooms(channel);
    await socket.join(rooms);
    try {
      // The sharded adapter subscribes this instance to a new room's channel on the join; the snapshot waits for Redis to confirm it.
      await deps.subscribed?.(rooms);
      return { ok: true, channel: room, snapshot: await deps.reads.snapshotOf(channel) };
    } catch (error) {
      if (!subscribedBefore) await leave(socket, room);
      if (error instanceof NotFoundError) return refused(socket, refuse(SUBSCRIBE_ERROR.NOT_FOUND, error.message));
      deps.logger.error({ err: error, channel: room }, 'subscribe failed');
      return refuse(SUBSCRIBE_ERROR.INTERNAL, 'the snapshot could not be read; try again');
    }
  }

  async function unsubscribe(socket: HubSocket, request: unknown): Promise<UnsubscribeAck> {
    if (!(await allowed(socket))) return refused(socket, refuse(SUBSCRIBE_ERROR.RATE_LIMITED, `at most ${LIMITS.requests} requests per ${LIMITS.windowSeconds} s`));
    const channel = parseChannel(channelOf(request));
    if (!channel) return refused(socket, refuse(SUBSCRIBE_ERROR.INVALID_CHANNEL, 'not a channel name'));
    await leave(socket, channelName(channel));
    return { ok: true };
  }

  /** Drops one channel and leaves the rooms no other channel of the socket still needs (ranges share day rooms). */
  async function leave(socket: HubSocket, name: string): Promise<void> {
    const { channels } = socket.data;
    if (!channels.delete(name)) return;
    const needed = new Set([...channels].flatMap((other) => deliveryRooms(parseChannel(other)!)));
    const gone = deliveryRooms(parseChannel(name)!).filter((room) => !needed.has(room));
    await Promise.all(gone.map((room) => socket.leave(room)));
  }

  return { subscribe, unsubscribe };
}

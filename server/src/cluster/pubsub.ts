import { randomUUID } from 'node:crypto';
import { createAdapter, createShardedAdapter } from '@socket.io/redis-adapter';
import { AVAILABILITY_NAMESPACE } from '@slotcast/shared';
import { CLUSTER_EVENT_BUCKETS, spreadTags } from './keys.ts';
import type { RedisClient } from './redis.ts';

/**
 * The Socket.IO adapter over Redis pub/sub, and what the hub needs to know about it.
 * - One Redis: the classic adapter (PSUBSCRIBE on the namespace): every instance gets every
 *   broadcast, so an event goes out once, to the union of its rooms.
 * - Redis Cluster: the sharded adapter (Redis 7 SPUBLISH/SSUBSCRIBE, `subscriptionMode: "dynamic"`):
 *   one channel per room, each living on the master that owns its slot, and an instance subscribes
 *   only to the rooms its sockets are in. The adapter uses a room's channel only for a broadcast to
 *   exactly one room, so an event goes out once per room, each excepting the rooms before it:
 *   a socket in several of them still gets it once, and only instances hosting a room receive it.
 */
export interface PubSub {
  adapter: ReturnType<typeof createAdapter> | ReturnType<typeof createShardedAdapter>;
  broadcast: 'union' | 'per-room';
  /** Resolves once this instance's subscription to each room's channel is confirmed by Redis (at once for the classic adapter). */
  subscribed(rooms: string[]): Promise<void>;
  /** True when a message published through the adapter's publisher reached its subscriber within `timeoutMs`, on every master of a cluster. */
  roundTrip(timeoutMs: number): Promise<boolean>;
}

/** The one form the adapter and this module call: channel names only, no callback. */
type Subscribing = { ssubscribe(...channels: string[]): Promise<unknown> };

export function redisPubSub(options: { pub: RedisClient; sub: RedisClient; channelPrefix: string; healthPrefix: string; instance: string; sharded: boolean }): PubSub {
  const { pub, sub, sharded } = options;
  // On a cluster, one health channel per slice of the slots, so the round trip crosses every master.
  const health = sharded
    ? spreadTags(options.healthPrefix, CLUSTER_EVENT_BUCKETS).map((tag) => `${options.healthPrefix}#{${tag}}#${options.instance}`)
    : [`${options.healthPrefix}#${options.instance}`];
  const waiting = new Map<string, () => void>();
  const onMessage = (channel: string, message: string) => waiting.get(`${channel}|${message}`)?.();
  sub.on(sharded ? 'smessage' : 'message', onMessage);
  const subscribing = Promise.all(health.map((channel) => (sharded ? (sub as unknown as Subscribing).ssubscribe(channel) : sub.subscribe(channel))));
  subscribing.catch(() => undefined);

  /** The sharded adapter subscribes to a room's channel without waiting for Redis; these are its pending SSUBSCRIBEs. */
  const pending = new Map<string, Promise<unknown>>();
  if (sharded) {
    const ssubscribe = (sub as unknown as Subscribing).ssubscribe.bind(sub);
    // Wrapped, not replaced: the adapter calls it on "create-room"; a subscribe request waits on it
    // before reading its snapshot, so no update can fall between the snapshot and the subscription.
    (sub as unknown as Subscribing).ssubscribe = (...channels: string[]) => {
      const confirmed = ssubscribe(...channels);
      const settled = confirmed.catch(() => undefined).finally(() => channels.forEach((channel) => pending.get(channel) === settled && pending.delete(channel)));
      for (const channel of channels) pending.set(channel, settled);
      return confirmed;
    };
  }
  const roomChannel = (room: string) => `${options.channelPrefix}#${AVAILABILITY_NAMESPACE}#${room}#`;

  const arrives = (channel: string, timeoutMs: number) =>
    new Promise<boolean>((resolve) => {
      const nonce = randomUUID();
      const key = `${channel}|${nonce}`;
      const timer = setTimeout(() => finish(false), timeoutMs);
      const finish = (ok: boolean) => {
        clearTimeout(timer);
        waiting.delete(key);
        resolve(ok);
      };
      waiting.set(key, () => finish(true));
      const sent = sharded ? pub.spublish(channel, nonce) : pub.publish(channel, nonce);
      sent.catch(() => finish(false));
    });

  return {
    adapter: sharded
      ? createShardedAdapter(pub, sub, { channelPrefix: options.channelPrefix, subscriptionMode: 'dynamic' })
      : createAdapter(pub, sub, { key: options.channelPrefix }),
    broadcast: sharded ? 'per-room' : 'union',
    async subscribed(rooms) {
      await Promise.all(rooms.map((room) => pending.get(roomChannel(room))));
    },
    async roundTrip(timeoutMs) {
      const started = performance.now();
      const ready = await Promise.race([subscribing.then(() => true, () => false), new Promise<false>((resolve) => setTimeout(() => resolve(false), timeoutMs))]);
      if (!ready) return false;
      const left = Math.max(1, timeoutMs - (performance.now() - started));
      return (await Promise.all(health.map((channel) => arrives(channel, left)))).every(Boolean);
    },
  };
}

import { keyOf, type Key } from '@slotcast/shared';

/** Every Redis key and channel slotcast uses, under one configurable prefix. */
export function redisKeys(prefix: string) {
  return {
    /** The shared counter every availability version comes from. */
    version: `${prefix}:version`,
    availability: (key: Key) => `${prefix}:avail:${keyOf(key)}`,
    /** Bumped whenever sessions change, so every instance reloads its session list. */
    catalogEpoch: `${prefix}:catalog-epoch`,
    once: (name: string) => `${prefix}:once:${name}`,
    /** The stream of hub events that SSE subscribers resume from. */
    events: `${prefix}:events`,
    leader: `${prefix}:leader`,
    leaderEpoch: `${prefix}:leader-epoch`,
    /** Pub/sub: a holder that lets go of the lease says so here, and followers try at once. */
    leaderFree: `${prefix}:leader-free`,
    resumeToken: (collection: string) => `${prefix}:resume-token:${collection}`,
    bookingKeys: `${prefix}:booking-keys`,
    overrideKeys: `${prefix}:override-keys`,
    /** Socket.IO redis-adapter channel prefix. */
    adapter: `${prefix}:socket.io`,
    rateLimit: `${prefix}:rate`,
  };
}

export type RedisKeys = ReturnType<typeof redisKeys>;

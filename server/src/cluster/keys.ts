import calculateSlot from 'cluster-key-slot';
import { keyOf, type Key } from '@slotcast/shared';

/** Redis Cluster's slots (0-16383); a key's slot is CRC16 of its hash tag (the first `{...}`) or of the whole key. */
export const SLOTS = 16_384;

/** How many streams the event log is spread over on a Redis Cluster (one stream on a single Redis). */
export const CLUSTER_EVENT_BUCKETS = 6;

/**
 * A hash tag for each of `count` buckets whose slots sit in `count` equal slices of 0-16383:
 * a cluster's masters hold contiguous slot ranges (as `redis-cli --cluster create` splits them),
 * so the buckets land on different masters rather than wherever CRC16 happens to put `0`, `1`, ...
 */
export function spreadTags(name: string, count: number): string[] {
  return Array.from({ length: count }, (_, bucket) => {
    const from = Math.floor((bucket * SLOTS) / count);
    const to = Math.floor(((bucket + 1) * SLOTS) / count);
    for (let salt = 0; ; salt += 1) {
      const tag = `${name}.${bucket}.${salt}`;
      const slot = calculateSlot(tag);
      if (slot >= from && slot < to) return tag;
    }
  });
}

/**
 * Every Redis key and channel slotcast uses, under one configurable prefix, each with its slot
 * chosen on purpose (docs/deployment.md, "Redis keys"): keys one script touches together share a
 * hash tag, everything else hashes on its whole name so it spreads over a cluster's masters.
 */
export function redisKeys(prefix: string, options: { spread?: number } = {}) {
  // The lease's script reads the leader key and writes the epoch or a fenced key in one go: one slot.
  const lease = `{${prefix}:lease}`;
  // Slices of the slots to spread over: CLUSTER_EVENT_BUCKETS on a cluster, 1 on a single Redis.
  const spread = options.spread ?? 1;
  const eventTags = spread === 1 ? undefined : spreadTags(`${prefix}:events`, spread);
  const healthTags = spread === 1 ? undefined : spreadTags(`${prefix}:health`, spread);
  return {
    /** The shared counter every availability version comes from (one key: its script touches only it). */
    version: `${prefix}:version`,
    /** One key per (session, date) snapshot, spread over the slots by its whole name. */
    availability: (key: Key) => `${prefix}:avail:${keyOf(key)}`,
    /** Bumped whenever sessions change, so every instance reloads its session list. */
    catalogEpoch: `${prefix}:catalog-epoch`,
    once: (name: string) => `${prefix}:once:${name}`,
    /** The streams of hub events that SSE subscribers resume from: one, or one per bucket spread over the masters. */
    events: eventTags ? eventTags.map((tag) => `${prefix}:events:{${tag}}`) : [`${prefix}:events`],
    leader: `${lease}:leader`,
    leaderEpoch: `${lease}:leader-epoch`,
    /** Pub/sub: a holder that lets go of the lease says so here, and followers try at once (classic pub/sub reaches every node of a cluster). */
    leaderFree: `${lease}:leader-free`,
    /** A key only the lease holder may set (its fencing script reads the leader key beside it). */
    fenced: (name: string) => `${lease}:${name}`,
    resumeToken: (collection: string) => `${lease}:resume-token:${collection}`,
    bookingKeys: `${prefix}:booking-keys`,
    overrideKeys: `${prefix}:override-keys`,
    /** What /readyz writes and reads back for one instance: one key, or one per slice of the slots so every master is asked. */
    health: (instance: string) => (healthTags ? healthTags.map((tag) => `${prefix}:health:{${tag}}:${instance}`) : [`${prefix}:health:${instance}`]),
    /** Socket.IO redis-adapter channel prefix. */
    adapter: `${prefix}:socket.io`,
    /** Prefix of the channels /readyz sends itself a message on, through the adapter's clients. */
    adapterHealth: `${prefix}:adapter-health`,
  };
}

export type RedisKeys = ReturnType<typeof redisKeys>;

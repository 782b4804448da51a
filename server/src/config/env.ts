import { hostname } from 'node:os';
import { z } from 'zod';
import { DEFAULT_MAX_BATCH_CALLS, isTimeZone, MAX_RANGE_DAYS } from '@slotcast/shared';
import { maskCredentials } from './secrets.ts';
import { loadMapping, MappingError } from '../schema/mapping.ts';

const integer = (min: number, max: number) =>
  z.coerce
    .number({ message: 'must be a number' })
    .int({ message: 'must be a whole number' })
    .min(min, { message: `must be at least ${min}` })
    .max(max, { message: `must be at most ${max}` });

const url = (schemes: string[]) =>
  z.string().refine((value) => schemes.some((scheme) => value.startsWith(`${scheme}://`)), {
    message: `must be a URL starting with ${schemes.map((s) => `${s}://`).join(' or ')}`,
  });

/**
 * Every variable the hub reads, with its default and why. Empty strings count as unset, so
 * `FOO=` in a compose file means "use the default".
 */
const envSchema = z.object({
  /** HTTP port for tRPC, Socket.IO, health, metrics and the demo page; 0 picks a free one. */
  PORT: integer(0, 65_535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  /** Unset: an embedded development database is started and seeded. */
  MONGODB_URI: url(['mongodb', 'mongodb+srv']).optional(),
  /** Set: multi-instance mode (Redis adapter, shared cache, leader lease). */
  REDIS_URL: url(['redis', 'rediss']).optional(),
  /**
   * Seeds of a Redis Cluster (`host:port,host:port`), set instead of REDIS_URL: multi-instance
   * mode on the cluster (sharded pub/sub adapter, keys spread over the slots by design).
   */
  REDIS_CLUSTER_NODES: z
    .string()
    .transform((value, ctx) => {
      const nodes = value.split(',').map((seed) => seed.trim()).map(parseSeed);
      if (nodes.some((node) => node === undefined)) {
        ctx.addIssue({ code: 'custom', message: 'must be comma-separated host:port seeds (port 1-65535), such as redis-1:6379,redis-2:6379' });
        return z.NEVER;
      }
      return nodes as ClusterSeed[];
    })
    .optional(),
  /** Namespaces every Redis key and channel, so several deployments can share one Redis. */
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_{}-]{1,64}$/, 'must be 1-64 characters of A-Z a-z 0-9 : _ - { } (braces make a Redis Cluster hash tag)')
    .default('slotcast'),
  /** HS256 needs at least 256 bits of key; unset in development means a random one per start. */
  JWT_SECRET: z.string().min(32, { message: 'must be at least 32 characters' }).optional(),
  INSTANCE_ID: z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/, 'must be 1-64 characters of A-Z a-z 0-9 . _ : -').default(`${hostname()}-${process.pid}`),
  CACHE_TTL_SECONDS: integer(1, 30 * 86_400).default(3600),
  /** Per-key window in which changes are folded into one recompute and broadcast; 0 sends each. */
  COALESCE_MS: integer(0, 10_000).default(50),
  LOW_AVAILABILITY_RATIO: z.coerce
    .number({ message: 'must be a number' })
    .min(0, { message: 'must be at least 0' })
    .max(1, { message: 'must be at most 1' })
    .default(0.2),
  HIGH_DEMAND_BOOKINGS: integer(1, 1_000_000).default(10),
  HIGH_DEMAND_WINDOW_MINUTES: integer(1, 7 * 24 * 60).default(60),
  /** Life of a hold when the caller gives no ttlSeconds: long enough for a checkout (seats.io: 15 min, Cal.com: 5). */
  HOLD_TTL_SECONDS: integer(30, 86_400).default(600),
  /** The longest ttlSeconds a caller may ask for, on create and on extend. */
  HOLD_MAX_TTL_SECONDS: integer(30, 86_400).default(3600),
  /** Bytes that may wait for one socket (Engine.IO's buffer and the WebSocket's); past it the socket is dropped and resubscribes fresh. */
  SOCKET_MAX_QUEUED_BYTES: integer(16_384, 1_073_741_824).default(4 * 1024 * 1024),
  /** How long a waitlist offer (a hold with source waitlist) stays open. */
  WAITLIST_OFFER_SECONDS: integer(5, 86_400).default(300),
  /**
   * A JSON mapping of your own collections and fields (schema/mapping.ts, docs/data-model.md),
   * read and validated here, once: the rest of the hub gets the typed schema. Unset: the default names.
   */
  SCHEMA_FILE: z
    .string()
    .transform((path, ctx) => {
      try {
        return loadMapping(path);
      } catch (error) {
        if (!(error instanceof MappingError)) throw error;
        ctx.addIssue({ code: 'custom', message: error.message });
        return z.NEVER;
      }
    })
    .optional(),
  TIMEZONE: z.string().refine(isTimeZone, { message: 'must be an IANA time zone such as Europe/Paris' }).default('UTC'),
  /** Comma-separated origins allowed for browsers (HTTP CORS and WebSocket upgrades); unset allows any. */
  CORS_ORIGINS: z
    .string()
    .transform((value) => value.split(',').map((origin) => origin.trim()).filter(Boolean))
    .optional(),
  /**
   * How long the change-feed lease lives without renewal (renewed every third of it): a leader
   * killed outright is replaced as its lease runs out, within this; a leader paused (GC, SIGSTOP)
   * longer than two thirds of it may lose the lease. docs/architecture.md, "Failover".
   */
  LEADER_LEASE_MS: integer(300, 600_000).default(1_500),
  /** auto: change streams, falling back to polling where MongoDB has none (standalone). */
  FEED_MODE: z.enum(['auto', 'stream', 'poll']).default('auto'),
  /** Days ahead that a resync (after a leader change or lost history) recomputes. */
  FEED_HORIZON_DAYS: integer(1, 366).default(30),
  POLL_INTERVAL_MS: integer(100, 60_000).default(1000),
  /**
   * Calls one tRPC HTTP request may batch; more is PAYLOAD_TOO_LARGE before anything runs. The
   * typed client splits its batches at the default (DEFAULT_MAX_BATCH_CALLS); set its
   * `maxBatchCalls` to match a lower value.
   */
  TRPC_MAX_BATCH_CALLS: integer(1, 1_000).default(DEFAULT_MAX_BATCH_CALLS),
  /**
   * Calendar days one tRPC request may read, summed over its calls (a date or a session on a
   * date is 1, a range its length, a session channel's snapshot 7); more is PAYLOAD_TOO_LARGE
   * before anything runs. The default is two of the longest ranges (2 x 93).
   */
  TRPC_MAX_DAYS_PER_REQUEST: integer(1, 100_000).default(2 * MAX_RANGE_DAYS),
  /**
   * tRPC queries and mutations one client may send per window (each HTTP request is one, however
   * many calls it batches); more is TOO_MANY_REQUESTS with Retry-After. 0 turns the limit off.
   * The default allows a sustained 30 a second and bursts of 300; counted per instance.
   */
  TRPC_RATE_LIMIT_REQUESTS: integer(0, 1_000_000).default(300),
  TRPC_RATE_LIMIT_WINDOW_SECONDS: integer(1, 86_400).default(10),
  /**
   * SSE subscriptions (`availability.subscribe`) one client may open per window; more ends the
   * stream at once with TOO_MANY_REQUESTS. 0 turns the limit off. A browser that reconnects now
   * and then stays far below the default; counted per instance.
   */
  SSE_RATE_LIMIT_OPENS: integer(0, 1_000_000).default(30),
  SSE_RATE_LIMIT_WINDOW_SECONDS: integer(1, 86_400).default(60),
  /**
   * How many proxies in front of the hub append to X-Forwarded-For. 0 (the default): a client is
   * its socket's address and the header is ignored, since anyone can send it. N: the N-th address
   * from the right of X-Forwarded-For, the one the outermost trusted proxy saw.
   */
  TRUST_PROXY: integer(0, 16).default(0),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** For supervisors and tests: shut down gracefully when standard input closes (the parent went away). */
  EXIT_ON_STDIN_CLOSE: z.enum(['true', 'false']).default('false').transform((value) => value === 'true'),
  /** Seeds demo data into an empty embedded database; ignored when MONGODB_URI is set. */
  SEED_DEMO: z.enum(['true', 'false']).default('true').transform((value) => value === 'true'),
});

export interface ClusterSeed {
  host: string;
  port: number;
}

/** `host:port` or `[v6]:port`; undefined when it is neither. */
function parseSeed(seed: string): ClusterSeed | undefined {
  const found = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(seed);
  const port = Number(found?.[3]);
  if (!found || port < 1 || port > 65_535) return undefined;
  return { host: (found[1] ?? found[2])!, port };
}

const configSchema = envSchema
  .refine((config) => !(config.REDIS_URL && config.REDIS_CLUSTER_NODES), {
    path: ['REDIS_CLUSTER_NODES'],
    message: 'and REDIS_URL are both set; set one: REDIS_URL for one Redis, REDIS_CLUSTER_NODES for a Redis Cluster',
  })
  .refine((config) => !(config.REDIS_CLUSTER_NODES && /[{}]/.test(config.REDIS_KEY_PREFIX)), {
    path: ['REDIS_KEY_PREFIX'],
    message: 'must not hold braces with REDIS_CLUSTER_NODES: slotcast chooses each key’s hash tag itself (docs/deployment.md)',
  })
  .refine((config) => config.HOLD_TTL_SECONDS <= config.HOLD_MAX_TTL_SECONDS, {
    path: ['HOLD_TTL_SECONDS'],
    message: 'must not be above HOLD_MAX_TTL_SECONDS',
  });

export type Config = z.infer<typeof envSchema>;

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    detail: string,
  ) {
    super(`Invalid configuration: ${variable} ${detail}`);
    this.name = 'ConfigError';
  }
}

/** Values that are secrets, or URLs whose credentials are: an error shows their length, or the URL masked. */
const SECRET_VARIABLES = new Set(['JWT_SECRET']);
const URL_VARIABLES = new Set(['MONGODB_URI', 'REDIS_URL']);

/** How an error shows the bad value: never a secret, at most 80 characters. */
function shownValue(variable: string, value: unknown): string {
  if (value === undefined) return '';
  const text = String(value);
  if (SECRET_VARIABLES.has(variable)) return ` (got ${text.length} characters)`;
  return ` (got "${(URL_VARIABLES.has(variable) ? maskCredentials(text) : text).slice(0, 80)}")`;
}

/** Reads the hub's configuration; throws a ConfigError naming the first bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const input = Object.fromEntries(
    Object.keys(envSchema.shape).flatMap((key) => {
      const value = env[key]?.trim();
      return value ? [[key, value]] : [];
    }),
  );
  const result = configSchema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const variable = String(issue?.path[0] ?? 'environment');
  // The mapping's own key comes first in its message (`SCHEMA_FILE: bookings.collection: expected a string`), the file's path last.
  if (variable === 'SCHEMA_FILE') throw new ConfigError(`${variable}:`, `${issue?.message ?? 'is invalid'} (in ${String(input[variable])})`);
  throw new ConfigError(variable, `${issue?.message ?? 'is invalid'}${shownValue(variable, input[variable])}`);
}

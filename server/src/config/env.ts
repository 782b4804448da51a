import { hostname } from 'node:os';
import { z } from 'zod';
import { isTimeZone } from '@slotcast/shared';
import { maskCredentials } from './secrets.ts';

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
  TIMEZONE: z.string().refine(isTimeZone, { message: 'must be an IANA time zone such as Europe/Paris' }).default('UTC'),
  /** Comma-separated origins allowed for browsers (HTTP CORS and WebSocket upgrades); unset allows any. */
  CORS_ORIGINS: z
    .string()
    .transform((value) => value.split(',').map((origin) => origin.trim()).filter(Boolean))
    .optional(),
  /** How long the change-feed lease lives without renewal; a new leader takes over within about twice this. */
  LEADER_LEASE_MS: integer(300, 600_000).default(10_000),
  /** auto: change streams, falling back to polling where MongoDB has none (standalone). */
  FEED_MODE: z.enum(['auto', 'stream', 'poll']).default('auto'),
  /** Days ahead that a resync (after a leader change or lost history) recomputes. */
  FEED_HORIZON_DAYS: integer(1, 366).default(30),
  POLL_INTERVAL_MS: integer(100, 60_000).default(1000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** For supervisors and tests: shut down gracefully when standard input closes (the parent went away). */
  EXIT_ON_STDIN_CLOSE: z.enum(['true', 'false']).default('false').transform((value) => value === 'true'),
  /** Seeds demo data into an empty embedded database; ignored when MONGODB_URI is set. */
  SEED_DEMO: z.enum(['true', 'false']).default('true').transform((value) => value === 'true'),
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
  const result = envSchema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const variable = String(issue?.path[0] ?? 'environment');
  throw new ConfigError(variable, `${issue?.message ?? 'is invalid'}${shownValue(variable, input[variable])}`);
}

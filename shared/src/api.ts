import { z } from 'zod';
import { daysBetween, isIsoDate } from './dates.ts';
import { isoDateSchema, objectIdSchema } from './schemas.ts';
import { MAX_CHANNEL_LENGTH } from './channels.ts';

/** Longest range a range query accepts, both ends included. */
export const MAX_RANGE_DAYS = 93;

/**
 * Calls one tRPC HTTP request may batch, by default (the hub's TRPC_MAX_BATCH_CALLS): the typed
 * client splits its batches at this size, so it never sends one the hub refuses.
 */
export const DEFAULT_MAX_BATCH_CALLS = 16;

type Range = { from: string; to: string };

/** What is wrong with a range of real dates, if anything: reported on `to`. */
function rangeProblem(from: string, to: string): string | undefined {
  if (!isIsoDate(from) || !isIsoDate(to)) return undefined;
  const span = daysBetween(from, to);
  if (span < 0) return 'must not be before from';
  if (span + 1 > MAX_RANGE_DAYS) return `range must be at most ${MAX_RANGE_DAYS} days`;
  return undefined;
}

/** Adds the from <= to and length rules to a schema with `from` and `to`, reporting on `to`. */
function withRangeRules<T extends z.ZodType<Range>>(schema: T) {
  return schema.superRefine((value, ctx) => {
    const problem = rangeProblem(value.from, value.to);
    if (problem) ctx.addIssue({ code: 'custom', path: ['to'], message: problem });
  });
}

export const byDateInput = z.strictObject({ date: isoDateSchema });

export const byDateRangeInput = withRangeRules(
  z.strictObject({ from: isoDateSchema, to: isoDateSchema, sessionId: objectIdSchema.optional() }),
);

export const bySessionInput = z.strictObject({ sessionId: objectIdSchema, date: isoDateSchema });

export const rangeInput = withRangeRules(z.strictObject({ from: isoDateSchema, to: isoDateSchema }));

export const trendsInput = byDateRangeInput;

export const peakHoursInput = withRangeRules(
  z.strictObject({
    from: isoDateSchema,
    to: isoDateSchema,
    limit: z.number().int().min(1).max(24).optional(),
  }),
);

export const refreshInput = z
  .strictObject({
    date: isoDateSchema.optional(),
    from: isoDateSchema.optional(),
    to: isoDateSchema.optional(),
    sessionId: objectIdSchema.optional(),
  })
  .superRefine((value, ctx) => {
    if (value.date && (value.from || value.to)) {
      ctx.addIssue({ code: 'custom', path: ['date'], message: 'give either date or from/to, not both' });
    }
    if (Boolean(value.from) !== Boolean(value.to)) {
      ctx.addIssue({ code: 'custom', path: [value.from ? 'to' : 'from'], message: 'from and to go together' });
    }
    const problem = value.from && value.to ? rangeProblem(value.from, value.to) : undefined;
    if (problem) ctx.addIssue({ code: 'custom', path: ['to'], message: problem });
  });

export const subscribeInput = z.strictObject({
  channel: z.string().min(1).max(MAX_CHANNEL_LENGTH),
  lastEventId: z.string().max(64).nullish(),
});

export type ByDateInput = z.infer<typeof byDateInput>;
export type ByDateRangeInput = z.infer<typeof byDateRangeInput>;
export type BySessionInput = z.infer<typeof bySessionInput>;
export type RangeInput = z.infer<typeof rangeInput>;
export type PeakHoursInput = z.infer<typeof peakHoursInput>;
export type RefreshInput = z.infer<typeof refreshInput>;
export type SubscribeInput = z.infer<typeof subscribeInput>;

export interface DateAvailability<S> {
  date: string;
  sessions: S[];
}

export interface AvailabilityStats {
  from: string;
  to: string;
  sessions: number;
  capacity: number;
  booked: number;
  available: number;
  utilization: number;
  full: number;
  low: number;
  closed: number;
}

export const TREND_DIRECTION = ['rising', 'falling', 'steady'] as const;
export type TrendDirection = (typeof TREND_DIRECTION)[number];

export interface TrendPoint {
  date: string;
  capacity: number;
  booked: number;
  utilization: number;
}

export interface Trends {
  points: TrendPoint[];
  direction: TrendDirection;
  slope: number;
}

export interface PeakHour {
  hour: number;
  sessions: number;
  capacity: number;
  booked: number;
  utilization: number;
}

export interface RefreshResult {
  recomputed: number;
  broadcast: number;
}

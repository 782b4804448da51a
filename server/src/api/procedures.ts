import type { AnyTRPCMutationProcedure, AnyTRPCProcedure, AnyTRPCQueryProcedure, AnyTRPCSubscriptionProcedure, inferRouterInputs } from '@trpc/server';
import {
  byDateRangeInput,
  datesInRange,
  parseChannel,
  peakHoursInput,
  rangeInput,
  refreshInput,
  subscribeInput,
  trendsInput,
  type Channel,
} from '@slotcast/shared';
import type { z } from 'zod';
import type { AppRouter } from './routers/_app.ts';

/**
 * The router's procedures by kind, listed by hand beside the router instead of read from tRPC's
 * internals, with what each call may compute. The `satisfies` clauses make a procedure that is
 * missing here, listed under the wrong kind or no longer there a compile error;
 * tests/api/fast-queries.test.ts checks the lists against what the adapter accepts.
 */

/** The dotted paths of the procedures of one kind, from the router's type. */
type PathsOf<Inputs, Node, Kind, Prefix extends string = ''> = {
  [K in keyof Inputs & keyof Node & string]: Node[K] extends Kind
    ? `${Prefix}${K}`
    : Node[K] extends AnyTRPCProcedure
      ? never
      : PathsOf<Inputs[K], Node[K], Kind, `${Prefix}${K}.`>;
}[keyof Inputs & keyof Node & string];

type Inputs = inferRouterInputs<AppRouter>;
export type QueryPath = PathsOf<Inputs, AppRouter, AnyTRPCQueryProcedure>;
export type MutationPath = PathsOf<Inputs, AppRouter, AnyTRPCMutationProcedure>;
export type SubscriptionPath = PathsOf<Inputs, AppRouter, AnyTRPCSubscriptionProcedure>;

/** Calendar days a call's raw input asks the engine for; 0 for input its procedure will refuse (it computes nothing). */
export type DaysOf = (input: unknown) => number;

const one: DaysOf = () => 1;

/** A range's length for input the schema accepts (at most MAX_RANGE_DAYS); 0 otherwise. */
const rangeDays =
  (schema: z.ZodType<{ from: string; to: string }>): DaysOf =>
  (input) => {
    const parsed = schema.safeParse(input);
    return parsed.success ? datesInRange(parsed.data.from, parsed.data.to).length : 0;
  };

/** What a channel's snapshot reads (see the engine's `snapshotOf`). */
function snapshotDays(channel: Channel): number {
  switch (channel.kind) {
    case 'global':
    case 'date':
      return 1;
    case 'range':
      return datesInRange(channel.from, channel.to).length;
    case 'session':
      return 7;
    case 'user':
      // The user's upcoming active bookings: keys, not a span of days; counted as one read.
      return 1;
  }
}

export const QUERIES = {
  'availability.byDate': one,
  'availability.byDateRange': rangeDays(byDateRangeInput),
  'availability.bySession': one,
  'availability.stats': rangeDays(rangeInput),
  'availability.trends': rangeDays(trendsInput),
  'availability.peakHours': rangeDays(peakHoursInput),
  'availability.alerts': rangeDays(rangeInput),
  // A user's own holds: no availability is computed.
  'holds.mine': () => 0,
  'waitlist.mine': () => 0,
} as const satisfies Record<QueryPath, DaysOf>;

export const MUTATIONS = {
  'availability.refresh': (input) => {
    const parsed = refreshInput.safeParse(input);
    if (!parsed.success) return 0;
    const { date, from, to } = parsed.data;
    if (date) return 1;
    // With neither, refresh covers today and the next 6 days.
    return from && to ? datesInRange(from, to).length : 7;
  },
  // Each guarded write answers with its key's availability: one day.
  'holds.create': one,
  'holds.extend': () => 0,
  'holds.release': one,
  'holds.confirm': one,
  'bookings.create': one,
  'bookings.cancel': one,
  'waitlist.join': () => 0,
  'waitlist.leave': () => 0,
} as const satisfies Record<MutationPath, DaysOf>;

export const SUBSCRIPTIONS = {
  'availability.subscribe': (input) => {
    const parsed = subscribeInput.safeParse(input);
    const channel = parsed.success ? parseChannel(parsed.data.channel) : null;
    return channel ? snapshotDays(channel) : 0;
  },
} as const satisfies Record<SubscriptionPath, DaysOf>;

export const QUERY_PATHS: readonly string[] = Object.keys(QUERIES);
export const MUTATION_PATHS: readonly string[] = Object.keys(MUTATIONS);
export const SUBSCRIPTION_PATHS: readonly string[] = Object.keys(SUBSCRIPTIONS);

const DAYS: ReadonlyMap<string, DaysOf> = new Map<string, DaysOf>([
  ...Object.entries(QUERIES),
  ...Object.entries(MUTATIONS),
  ...Object.entries(SUBSCRIPTIONS),
]);

/** Days one call may compute; 0 for a path that is no procedure (it is answered NOT_FOUND). */
export const daysOfCall = (path: string, input: unknown): number => DAYS.get(path)?.(input) ?? 0;

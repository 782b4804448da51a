import { TRPCError } from '@trpc/server';
import {
  byDateInput,
  byDateRangeInput,
  deliveryRooms,
  bySessionInput,
  datesInRange,
  parseChannel,
  peakHoursInput,
  rangeInput,
  refreshInput,
  subscribeInput,
  trendsInput,
} from '@slotcast/shared';
import { peakHoursOf, statsOf, trendsOf } from '../../availability/analytics.ts';
import { channelAccess } from '../../auth/channel-access.ts';
import { channelEvents, StreamExpiredError } from '../stream.ts';
import { adminProcedure, publicProcedure, router, staffProcedure, toApiError } from '../trpc.ts';

export const availabilityRouter = router({
  byDate: publicProcedure.input(byDateInput).query(({ ctx, input }) => ctx.services.reads.byDate(input.date)),

  byDateRange: publicProcedure
    .input(byDateRangeInput)
    .query(({ ctx, input }) => ctx.services.reads.byDateRange(input.from, input.to, input.sessionId)),

  bySession: publicProcedure
    .input(bySessionInput)
    .query(({ ctx, input }) => ctx.services.reads.bySession(input.sessionId, input.date)),

  stats: staffProcedure.input(rangeInput).query(async ({ ctx, input }) => {
    const rows = await ctx.services.reads.snapshots({ from: input.from, to: input.to });
    return statsOf(input.from, input.to, rows);
  }),

  trends: staffProcedure.input(trendsInput).query(async ({ ctx, input }) => {
    const { reads } = ctx.services;
    if (input.sessionId) await reads.requireSession(input.sessionId);
    const rows = await reads.snapshots({ from: input.from, to: input.to, sessionIds: input.sessionId ? [input.sessionId] : undefined });
    return trendsOf(datesInRange(input.from, input.to), rows);
  }),

  peakHours: staffProcedure.input(peakHoursInput).query(async ({ ctx, input }) => {
    const rows = await ctx.services.reads.snapshots({ from: input.from, to: input.to });
    return peakHoursOf(rows, input.limit ?? 24);
  }),

  alerts: staffProcedure.input(rangeInput).query(({ ctx, input }) => ctx.services.reads.alerts(input.from, input.to)),

  refresh: adminProcedure.input(refreshInput).mutation(({ ctx, input }) =>
    ctx.services.refresh({
      from: input.date ?? input.from,
      to: input.date ?? input.to,
      sessionId: input.sessionId,
    }),
  ),

  subscribe: publicProcedure.input(subscribeInput).subscription(async function* ({ ctx, input, signal }) {
    const channel = parseChannel(input.channel);
    if (!channel) throw new TRPCError({ code: 'BAD_REQUEST', message: `channel: INVALID_CHANNEL "${input.channel}"` });
    if (channelAccess(channel, ctx.principal)) {
      throw new TRPCError({
        code: ctx.principal ? 'FORBIDDEN' : 'UNAUTHORIZED',
        message: 'a user channel is only for the token whose sub is that user',
      });
    }
    const { reads, events } = ctx.services;
    // A subscription's body runs after the middleware has returned, so its errors are mapped here.
    if (channel.kind === 'session') await reads.requireSession(channel.sessionId).catch((error: unknown) => Promise.reject(toApiError(error)));
    // The stream ends when its token expires, as a socket is dropped: a token must not outlive itself on SSE.
    const expiry = untilExpiry(ctx.principal?.expiresAt, signal);
    let last: string;
    try {
      last = yield* channelEvents({
        rooms: deliveryRooms(channel),
        lastEventId: input.lastEventId,
        events,
        snapshot: () => reads.snapshotOf(channel),
        signal: expiry.signal,
      });
    } catch (error) {
      // A subscription's body runs after the middleware has returned: its errors get their API codes here.
      throw toApiError(error);
    } finally {
      expiry.clear();
    }
    // The error says where the stream stopped, so a renewed one resumes there even if no event carried that id.
    if (expiry.expired()) {
      const cause = new StreamExpiredError(last);
      throw new TRPCError({ code: 'UNAUTHORIZED', message: cause.message, cause });
    }
  }),
});

/** A signal that aborts with the request or when the token expires, whichever comes first. */
function untilExpiry(expiresAt: number | undefined, request: AbortSignal | undefined) {
  const timer = new AbortController();
  const due = expiresAt === undefined ? undefined : setTimeout(() => timer.abort(), Math.max(0, Math.min(expiresAt * 1000 - Date.now(), 2_147_483_647)));
  return {
    signal: request ? AbortSignal.any([request, timer.signal]) : timer.signal,
    expired: () => timer.signal.aborted,
    clear: () => clearTimeout(due),
  };
}

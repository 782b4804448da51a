import { confirmHoldInput, createBookingInput, cancelBookingInput, createHoldInput, extendHoldInput, holdIdInput, joinWaitlistInput, leaveWaitlistInput, noInput } from '@slotcast/shared';
import { router, userProcedure } from '../trpc.ts';

/** Holds and guarded bookings: every procedure acts for the token's `sub` (staff and admin for anyone). */
export const holdsRouter = router({
  create: userProcedure.input(createHoldInput).mutation(({ ctx, input }) => ctx.services.holds.create(ctx.principal, input)),
  extend: userProcedure.input(extendHoldInput).mutation(({ ctx, input }) => ctx.services.holds.extend(ctx.principal, input)),
  release: userProcedure.input(holdIdInput).mutation(({ ctx, input }) => ctx.services.holds.release(ctx.principal, input)),
  confirm: userProcedure.input(confirmHoldInput).mutation(({ ctx, input }) => ctx.services.holds.confirm(ctx.principal, input)),
  mine: userProcedure.input(noInput).query(({ ctx }) => ctx.services.holds.mine(ctx.principal)),
});

export const bookingsRouter = router({
  create: userProcedure.input(createBookingInput).mutation(({ ctx, input }) => ctx.services.bookings.create(ctx.principal, input)),
  cancel: userProcedure.input(cancelBookingInput).mutation(({ ctx, input }) => ctx.services.bookings.cancel(ctx.principal, input)),
});

export const waitlistRouter = router({
  join: userProcedure.input(joinWaitlistInput).mutation(({ ctx, input }) => ctx.services.waitlist.join(ctx.principal, input)),
  leave: userProcedure.input(leaveWaitlistInput).mutation(({ ctx, input }) => ctx.services.waitlist.leave(ctx.principal, input)),
  mine: userProcedure.input(noInput).query(({ ctx }) => ctx.services.waitlist.mine(ctx.principal)),
});

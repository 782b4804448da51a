import { router } from '../trpc.ts';
import { availabilityRouter } from './availability.ts';
import { bookingsRouter, holdsRouter, waitlistRouter } from './holds.ts';

export const appRouter = router({
  availability: availabilityRouter,
  holds: holdsRouter,
  bookings: bookingsRouter,
  waitlist: waitlistRouter,
});

export type AppRouter = typeof appRouter;

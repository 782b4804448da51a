import { router } from '../trpc.ts';
import { availabilityRouter } from './availability.ts';
import { bookingsRouter, holdsRouter } from './holds.ts';

export const appRouter = router({
  availability: availabilityRouter,
  holds: holdsRouter,
  bookings: bookingsRouter,
});

export type AppRouter = typeof appRouter;

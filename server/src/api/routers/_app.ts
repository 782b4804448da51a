import { router } from '../trpc.ts';
import { availabilityRouter } from './availability.ts';

export const appRouter = router({
  availability: availabilityRouter,
});

export type AppRouter = typeof appRouter;

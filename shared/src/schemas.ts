import { z } from 'zod';
import { HH_MM, isIsoDate } from './dates.ts';
import { OBJECT_ID } from './ids.ts';

// The zod schemas of the basic values; kept apart from the plain helpers so the browser bundle can leave zod out.

export const isoDateSchema = z
  .string()
  .max(10)
  .refine(isIsoDate, { message: 'must be a real calendar date in YYYY-MM-DD form' });

export const timeOfDaySchema = z.string().regex(HH_MM, 'must be a time in HH:mm form');

/** Ids arrive in either case; they are lower-cased once here so every later comparison is exact. */
export const objectIdSchema = z
  .string()
  .regex(OBJECT_ID, 'must be a 24-character hex id')
  .transform((id) => id.toLowerCase());

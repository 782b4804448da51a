import { afterAll, expect, onTestFinished } from 'vitest';

/** Cleanups for the end of the file, newest first (a hub stops before the database it used). */
const atFileEnd: (() => unknown)[] = [];
// Registered when this module loads, at file level: an afterAll registered later, inside a
// beforeAll or a running test, never runs, which is how hubs used to be left behind.
afterAll(async () => {
  for (const fn of atFileEnd.splice(0).reverse()) await fn();
});

/** Runs `fn` when the current test ends (when called inside a test) or after the file's tests (at file level or in beforeAll). */
export function whenDone(fn: () => unknown): void {
  if (expect.getState().currentTestName !== undefined) onTestFinished(async () => void (await fn()));
  else atFileEnd.push(fn);
}

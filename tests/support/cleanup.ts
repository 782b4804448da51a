import { afterAll, expect, onTestFinished } from 'vitest';

/**
 * Runs `fn` when the current test ends (when called inside a test) or after the file's tests
 * (when called at file level or in beforeAll). An afterAll registered inside a running test
 * never runs, which is how hub processes used to be left behind.
 */
export function whenDone(fn: () => unknown): void {
  if (expect.getState().currentTestName !== undefined) onTestFinished(async () => void (await fn()));
  else afterAll(async () => void (await fn()));
}

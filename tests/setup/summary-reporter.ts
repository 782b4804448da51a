import type { Reporter, SerializedError, TestModule, TestRunEndReason } from 'vitest/node';

/** Names of failed files shown on the files line; the default reporter above lists them all. */
const NAMED_FILES = 5;

/**
 * Ends the run with one plain line that CI logs can read, "tests: N passed, N failed, N skipped",
 * alone on the last line. Failed counts every failure, not only failed tests: a file that failed to
 * import, a beforeAll or afterAll that threw, an unhandled error. The line before it counts files,
 * in a form that does not read as "N passed, N failed", so a parser cannot take it for the total.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>, reason: TestRunEndReason): void {
    const counts = { passed: 0, failed: 0, skipped: 0 };
    const failedFiles: string[] = [];
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') counts.passed += 1;
        else if (state === 'failed') counts.failed += 1;
        else counts.skipped += 1;
      }
      // Errors outside any test: the file's own (import, top-level hooks) and each suite's hooks.
      if (module.errors().length > 0) counts.failed += 1;
      for (const suite of module.children.allSuites()) if (suite.errors().length > 0) counts.failed += 1;
      if (module.state() === 'failed') failedFiles.push(module.relativeModuleId);
    }
    counts.failed += unhandledErrors.length;
    // A run that failed for a reason tied to no test (interrupted, a global setup error) must not read as green.
    if (reason !== 'passed' && counts.failed === 0) counts.failed = 1;

    failedFiles.sort();
    const named = failedFiles.slice(0, NAMED_FILES).join(', ') + (failedFiles.length > NAMED_FILES ? ', …' : '');
    const files = `test files: ${testModules.length} run, ${failedFiles.length} failed${named ? ` (${named})` : ''}`;
    process.stdout.write(`\n${files}\ntests: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`);
  }
}

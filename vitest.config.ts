import { defineConfig } from 'vitest/config';

export default defineConfig({
  // @slotcast/* resolve to their sources through tsconfig.json's "paths", as for tsc and tsx.
  resolve: { tsconfigPaths: true },
  test: {
    include: ['tests/**/*.test.ts'],
    globalSetup: ['tests/setup/services.ts'],
    setupFiles: ['tests/setup/file.ts'],
    testTimeout: 30_000,
    hookTimeout: 90_000,
    pool: 'forks',
    // Two cores: more parallel files only add contention with the Java and hub processes.
    maxWorkers: 2,
    reporters: ['default', './tests/setup/summary-reporter.ts'],
  },
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { whenDone } from '../support/cleanup.ts';
import { cleanEnv, ROOT, run } from '../support/processes.ts';

const VITEST = join(ROOT, 'node_modules/vitest/vitest.mjs');
const REPORTER = join(ROOT, 'tests/setup/summary-reporter.ts');

/** A throwaway vitest project: globals, so its files import nothing and need no node_modules of their own. */
function fixtureProject(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'slotcast-reporter-'));
  whenDone(() => rmSync(dir, { recursive: true, force: true }));
  const config = { cacheDir: join(dir, '.vite'), test: { globals: true, include: ['*.test.mjs'], reporters: ['default', REPORTER] } };
  writeFileSync(join(dir, 'vitest.config.mjs'), `export default ${JSON.stringify(config)};\n`);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe('the closing line of a test run', () => {
  it('counts a file that fails to import and a throwing beforeAll as failed, and the run exits non-zero', async () => {
    const dir = fixtureProject({
      'pass.test.mjs': "test('passes', () => expect(1 + 1).toBe(2));\n",
      'import.test.mjs': "throw new Error('fails at import');\ntest('never collected', () => {});\n",
      'hook.test.mjs': "describe('a suite', () => {\n  beforeAll(() => { throw new Error('setup fails'); });\n  test('never runs', () => {});\n});\n",
    });
    const result = await run(process.execPath, [VITEST, 'run', '--root', dir], { cwd: dir, env: cleanEnv({ NO_COLOR: '1' }), timeoutMs: 60_000 });

    expect(result.code).not.toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    const closing = lines.at(-1)!;
    expect(closing).toBe('tests: 1 passed, 2 failed, 1 skipped');
    // What a log parser reads: one word and a colon, then "N passed, N failed" from the start.
    expect(closing).toMatch(/^\w+: \d+ passed, \d+ failed(, \d+ skipped)?$/);
    const files = lines.at(-2)!;
    expect(files).toBe('test files: 3 run, 2 failed (hook.test.mjs, import.test.mjs)');
    expect(files).not.toMatch(/\d+ passed, \d+ failed/);
  }, 70_000);

  it('counts an unhandled error as failed even when every test passed', async () => {
    const dir = fixtureProject({
      'late.test.mjs': "test('passes, then something throws', async () => {\n  setTimeout(() => { throw new Error('late'); });\n  await new Promise((resolve) => setTimeout(resolve, 50));\n});\n",
    });
    const result = await run(process.execPath, [VITEST, 'run', '--root', dir], { cwd: dir, env: cleanEnv({ NO_COLOR: '1' }), timeoutMs: 60_000 });

    expect(result.code).not.toBe(0);
    expect(result.stdout.trimEnd().split('\n').at(-1)).toBe('tests: 1 passed, 1 failed, 0 skipped');
  }, 70_000);
});

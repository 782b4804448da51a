import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { whenDone } from '../support/cleanup.ts';
import { cleanEnv, run, type Finished } from '../support/processes.ts';
import { freePort } from '../../server/src/devservices/redis-server.ts';
import { DATABASE_CHECK_MS } from '../../server/src/startup/checks.ts';

/** The bound for a start-up error: a few seconds, generous for a busy two-core machine. */
const FAILS_WITHIN_MS = 8_000;

/** `server/src/main.ts` as `npm start` runs it, with only the given environment. */
const startHub = (env: Record<string, string>) =>
  run(process.execPath, ['--import', 'tsx', 'server/src/main.ts'], { env: cleanEnv({ LOG_LEVEL: 'info', ...env }), timeoutMs: 60_000 });

/** What the user sees: exit 1, one plain line on standard error, no JSON log and no stack anywhere. */
function expectOneLine(result: Finished): string {
  expect(result.code).toBe(1);
  expect(result.errorLines).toHaveLength(1);
  expect(result.stdout).toBe('');
  expect(result.stderr).not.toMatch(/^\s+at /m);
  expect(result.errorLines[0]).not.toMatch(/^\{/);
  return result.errorLines[0]!;
}

describe('start-up errors are one line naming the variable', () => {
  it('PORT already in use: fails before the database starts', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    whenDone(() => new Promise((resolve) => holder.close(resolve)));
    const { port } = holder.address() as AddressInfo;

    const result = await startHub({ PORT: String(port), HOST: '127.0.0.1' });
    const line = expectOneLine(result);
    console.log(`PORT in use: ${result.ms} ms: ${line}`);
    expect(line).toMatch(new RegExp(`^PORT ${port} is already in use \\(127\\.0\\.0\\.1:${port}\\)`));
    expect(result.ms).toBeLessThan(FAILS_WITHIN_MS);
  });

  it('MONGODB_URI that does not answer: within the documented check time, without its password', async () => {
    const password = 'pw-that-must-not-show';
    const uri = `mongodb://slotcast:${password}@127.0.0.1:${await freePort()}/slotcast`;

    const result = await startHub({ PORT: '0', MONGODB_URI: uri });
    const line = expectOneLine(result);
    console.log(`MONGODB_URI silent: ${result.ms} ms: ${line}`);
    expect(line).toMatch(new RegExp(`^MONGODB_URI does not answer: no MongoDB server at 127\\.0\\.0\\.1:\\d+ replied within ${DATABASE_CHECK_MS / 1000} s`));
    expect(result.stderr).not.toContain(password);
    expect(result.ms).toBeGreaterThanOrEqual(DATABASE_CHECK_MS);
    expect(result.ms).toBeLessThan(FAILS_WITHIN_MS);
  });

  it('Java missing (embedded database): the install hint alone', async () => {
    const emptyPath = mkdtempSync(join(tmpdir(), 'slotcast-nopath-'));
    whenDone(() => rmSync(emptyPath, { recursive: true, force: true }));

    const result = await startHub({ PORT: '0', PATH: emptyPath });
    const line = expectOneLine(result);
    console.log(`Java missing: ${result.ms} ms: ${line}`);
    expect(line).toMatch(/^java is not installed or not on PATH: install a JDK 17 or newer .*, or set MONGODB_URI$/);
  });

  it('a bad SCHEMA_FILE: the key inside the file, before anything starts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slotcast-schema-'));
    whenDone(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'mapping.json');
    writeFileSync(file, JSON.stringify({ bookings: { collection: 42 } }));

    const result = await startHub({ PORT: '0', SCHEMA_FILE: file });
    const line = expectOneLine(result);
    expect(line).toBe(`Invalid configuration: SCHEMA_FILE: bookings.collection: expected a string (in ${file})`);
  });

  it.each([
    ['JWT_SECRET', 'short-secret', 'short-secret'],
    ['MONGODB_URI', 'postgres://app:pg-secret-42@db.example/slotcast', 'pg-secret-42'],
    ['REDIS_URL', 'redis//:redis-secret-42@cache.example:6379', 'redis-secret-42'],
  ])('a bad %s is refused without echoing its secret', async (variable, value, secret) => {
    const result = await startHub({ [variable]: value });
    const line = expectOneLine(result);
    expect(line).toMatch(new RegExp(`^Invalid configuration: ${variable} `));
    expect(result.stderr).not.toContain(secret);
  });
});

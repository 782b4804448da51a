import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { Tokens } from '../../server/src/auth/tokens.ts';
import { cleanEnv, ROOT, run } from '../support/processes.ts';

const SECRET = 'cli-secret-cli-secret-cli-secret-1234';
const USAGE = 'usage: npm run token -- --sub <userId> [--roles staff,admin] [--expires 12h]';
const cli = (args: string[], env: Record<string, string>) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'server/src/auth/token-cli.ts', ...args], {
    cwd: ROOT,
    env: cleanEnv(env),
    encoding: 'utf8',
  });

/** One line on standard error, exit 1, no stack. */
function expectRefused(result: ReturnType<typeof cli>, pattern: RegExp): void {
  expect(result.status).toBe(1);
  expect(result.stdout).toBe('');
  expect(result.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(pattern)]);
}

describe('npm run token', () => {
  it('prints a token the hub accepts, with the given sub and roles', async () => {
    const result = cli(['--sub', 'u1', '--roles', 'staff,admin', '--expires', '5m'], { JWT_SECRET: SECRET });
    expect(result.status).toBe(0);
    const principal = await new Tokens(SECRET).verify(result.stdout.trim());
    expect(principal.userId).toBe('u1');
    expect([...principal.roles].sort()).toEqual(['admin', 'staff']);
    expect(principal.expiresAt! - Date.now() / 1000).toBeLessThanOrEqual(300);
  });

  it('--help prints the usage and what the options mean, with or without JWT_SECRET', () => {
    for (const flag of ['--help', '-h']) {
      const result = cli([flag], {});
      expect(result.status).toBe(0);
      expect(result.stderr).toBe('');
      expect(result.stdout.split('\n')[0]).toBe(USAGE);
      expect(result.stdout).toContain('--expires <span>');
      expect(result.stdout).toContain('JWT_SECRET');
    }
  });

  it('refuses bad arguments in one line with the usage', () => {
    const env = { JWT_SECRET: SECRET };
    expectRefused(cli(['--bogus'], env), /^Unknown option '--bogus'; usage: /);
    expectRefused(cli(['u1'], env), /^Unexpected argument 'u1'.*; usage: /);
    expectRefused(cli(['--sub'], env), /^Option '--sub <value>' argument missing; usage: /);
    expectRefused(cli([], env), /^--sub is required; usage: /);
    expectRefused(cli(['--sub', 'u1', '--roles', 'root'], env), /^unknown role root: roles are staff, admin; usage: /);
    expectRefused(cli(['--sub', 'u1', '--expires', 'soon'], env), /^--expires must be a span such as 30m, 12h or 7d \(got "soon"\); usage: /);
  });

  it('refuses to run without JWT_SECRET, in one line that shows no secret', () => {
    expectRefused(cli(['--sub', 'u1'], {}), /^JWT_SECRET must be set \(at least 32 characters\)/);
    const short = cli(['--sub', 'u1'], { JWT_SECRET: 'short-secret' });
    expectRefused(short, /^JWT_SECRET must be set/);
    expect(short.stderr).not.toContain('short-secret');
  });

  it.each([
    ['server/ (its workspace)', ['run', '-s', 'token', '--', '--sub', 'u2'], join(ROOT, 'server')],
    ['docs/ (a folder of the repository)', ['run', '-s', 'token', '--', '--sub', 'u2'], join(ROOT, 'docs')],
    ['outside the repository, with --prefix', ['--prefix', ROOT, 'run', '-s', 'token', '--', '--sub', 'u2'], tmpdir()],
  ])('works from %s', async (_where, args, cwd) => {
    const result = await run('npm', args, { cwd, env: cleanEnv({ JWT_SECRET: SECRET }) });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect((await new Tokens(SECRET).verify(result.stdout.trim())).userId).toBe('u2');
  });
});

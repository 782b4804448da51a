import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Tokens } from '../../server/src/auth/tokens.ts';
import { REPO_ROOT } from '../support/hub-process.ts';

const SECRET = 'cli-secret-cli-secret-cli-secret-1234';
const run = (args: string[], env: Record<string, string>) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'server/src/auth/token-cli.ts', ...args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
  });

describe('npm run token', () => {
  it('prints a token the hub accepts, with the given sub and roles', async () => {
    const result = run(['--sub', 'u1', '--roles', 'staff,admin', '--expires', '5m'], { JWT_SECRET: SECRET });
    expect(result.status).toBe(0);
    const principal = await new Tokens(SECRET).verify(result.stdout.trim());
    expect(principal.userId).toBe('u1');
    expect([...principal.roles].sort()).toEqual(['admin', 'staff']);
    expect(principal.expiresAt! - Date.now() / 1000).toBeLessThanOrEqual(300);
  });

  it('refuses to run without JWT_SECRET, without --sub, or with an unknown role', () => {
    expect(run(['--sub', 'u1'], {})).toMatchObject({ status: 1, stderr: expect.stringContaining('JWT_SECRET') });
    expect(run([], { JWT_SECRET: SECRET })).toMatchObject({ status: 1, stderr: expect.stringContaining('usage') });
    expect(run(['--sub', 'u1', '--roles', 'root'], { JWT_SECRET: SECRET })).toMatchObject({ status: 1, stderr: expect.stringContaining('unknown role root') });
  });
});

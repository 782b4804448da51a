import { chmodSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { whenDone } from '../support/cleanup.ts';
import { cleanEnv, run } from '../support/processes.ts';

const SETUP = 'scripts/setup.sh';

/** A PATH directory holding only the given programs (symlinks to the real ones), to play a machine that lacks the rest. */
function pathWith(programs: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'slotcast-path-'));
  // Searchable by any user: one case runs as nobody.
  chmodSync(dir, 0o755);
  whenDone(() => rmSync(dir, { recursive: true, force: true }));
  for (const program of programs) symlinkSync(program, join(dir, program.split('/').at(-1)!));
  return dir;
}

describe('scripts/setup.sh, the first step of npm start and npm test', () => {
  it('is quiet and fast when everything is there (it runs on every npm test)', async () => {
    // By the time this runs, npm test's own first step has installed whatever was missing.
    const result = await run('bash', [SETUP, 'test']);
    console.log(`setup.sh test with everything there: ${result.ms} ms`);
    expect(result).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(result.ms).toBeLessThan(2_000);
  });

  it('names what to install in one line where it cannot install (no apt-get)', async () => {
    const result = await run('/bin/bash', [SETUP, 'test'], { env: { PATH: pathWith([]) } });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.errorLines).toHaveLength(1);
    expect(result.errorLines[0]).toMatch(/^slotcast setup: missing java \(a JDK 17\+, or set MONGODB_URI\), mvn \(Maven, or set MONGODB_URI\), redis-server \(Redis, or set REDIS_URL\)/);
    expect(result.errorLines[0]).toContain('install them with your package manager (Debian names: default-jdk-headless maven redis-server');
  });

  it('names the apt-get command in one line when not root', async () => {
    const path = pathWith(['/usr/bin/apt-get']);
    // As root (CI), drop to nobody for this run: a root run would install for real.
    const [command, args] =
      process.getuid?.() === 0
        ? ['/usr/bin/setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '/bin/bash', SETUP, 'start']]
        : ['/bin/bash', [SETUP, 'start']];
    const result = await run(command, args as string[], { env: { PATH: path } });
    expect(result.code).toBe(1);
    expect(result.errorLines).toEqual([
      'slotcast setup: missing java (a JDK 17+, or set MONGODB_URI), mvn (Maven, or set MONGODB_URI); install them: sudo apt-get install -y default-jdk-headless maven',
    ]);
  });

  it('needs nothing for start with MONGODB_URI set, and no Redis for test with REDIS_URL set', async () => {
    const start = await run('/bin/bash', [SETUP, 'start'], { env: { PATH: pathWith([]), MONGODB_URI: 'mongodb://db.example/slotcast' } });
    expect(start).toMatchObject({ code: 0, stdout: '', stderr: '' });
    const test = await run('bash', [SETUP, 'test'], { env: cleanEnv({ REDIS_URL: 'redis://cache.example', MONGODB_URI: 'mongodb://db.example/slotcast' }) });
    expect(test).toMatchObject({ code: 0, stdout: '', stderr: '' });
  });
});

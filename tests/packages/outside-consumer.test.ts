import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays, todayIn } from '@slotcast/shared';
import { connectDatabase, type Database } from '../../server/src/db/connect.ts';
import { testDatabaseUri } from '../support/database.ts';
import { startTestHub, type TestHub } from '../support/hub.ts';
import { cleanEnv, ROOT, run, type Finished } from '../support/processes.ts';
import { Waiter } from '../support/waiter.ts';
import { whenDone } from '../support/cleanup.ts';

/*
 * A project outside the workspace, as a newcomer makes one: `npm pack` of both packages, an
 * `npm install` of the tarballs, a strict tsc (skipLibCheck off, no allowImportingTsExtensions)
 * and plain `node` against a live hub. Nothing here resolves through the workspace's "paths".
 */

/** The consumer's source; `wrong.ts` is the same with a number for the date. */
const CONSUMER = `
import { createRealtimeClient, createSlotcastClient, remainingText } from '@slotcast/client';
import { dateChannel } from '@slotcast/shared';

type IsAny<T> = 0 extends 1 & T ? true : false;
const [url = '', date = ''] = process.argv.slice(2);
const say = (line: object) => console.log(JSON.stringify(line));

const api = createSlotcastClient({ url });
const rows = await api.availability.byDate.query({ date: DATE });
const typed: IsAny<typeof rows> = false; // fails to compile if the router's type were lost
say({ query: rows.map((row) => ({ name: row.name, available: row.available })), typed });

const live = createRealtimeClient({ url, transports: ['websocket'] });
live.subscribe(dateChannel(date), {
  onSnapshot: (snapshot) => say({ snapshot: snapshot.length }),
  onUpdate: (update) => {
    say({ update: { name: update.name, available: update.available, reason: update.reason, text: remainingText(update) } });
    live.close();
  },
  onError: (error) => {
    say({ error: error.code });
    live.close();
  },
});
live.connect();
`;

const rootPackage = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
const npm = (args: string[], cwd: string, timeoutMs: number) => run('npm', args, { cwd, env: cleanEnv(), timeoutMs });
const tsc = (config: string, cwd = project) => run(process.execPath, [join(cwd, 'node_modules/typescript/bin/tsc'), '-p', config], { cwd, timeoutMs: 110_000 });

function expectSuccess(step: string, result: Finished): void {
  expect(result.code, `${step} failed:\n${result.stdout}\n${result.stderr}`).toBe(0);
}

const date = addDays(todayIn('UTC'), 1);
const timings: Record<string, number> = {};
let project = '';
let database: Database | undefined;
let hub: TestHub;
let sessionId: string;

beforeAll(async () => {
  project = mkdtempSync(join(tmpdir(), 'slotcast-consumer-'));
  const starting = (async () => {
    const uri = testDatabaseUri();
    database = await connectDatabase(uri);
    const session = await database.models.Session.create({ name: 'Lap Swim', startTime: '07:00', endTime: '08:00', capacity: 12, daysOfWeek: [], active: true });
    sessionId = String(session._id);
    hub = await startTestHub({ mongoUri: uri, env: { COALESCE_MS: '20' } });
  })();

  // Each package's prepack builds it (shared first: the client's build reads its types), so a pack is never stale.
  const packed = await npm(['pack', '-w', 'shared', '-w', 'client', '--pack-destination', project], ROOT, 180_000);
  expectSuccess('npm pack', packed);
  timings.buildAndPack = packed.ms;
  const tarballs = readdirSync(project).filter((name) => name.endsWith('.tgz'));
  expect(tarballs.sort()).toEqual(['slotcast-client-0.1.0.tgz', 'slotcast-shared-0.1.0.tgz']);

  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  const pinned = [`typescript@${rootPackage.devDependencies.typescript}`, `@types/node@${rootPackage.devDependencies['@types/node']}`];
  const installed = await npm(['install', '--prefer-offline', '--no-audit', '--no-fund', ...tarballs.map((name) => `./${name}`), ...pinned], project, 120_000);
  expectSuccess('npm install', installed);
  timings.install = installed.ms;

  // Every .d.ts in the project is checked (ours, and what they import), except TypeScript's own lib files.
  const compilerOptions = { module: 'nodenext', target: 'es2022', strict: true, skipLibCheck: false, skipDefaultLibCheck: true, types: ['node'] };
  writeFileSync(join(project, 'consumer.ts'), CONSUMER.replace('DATE', 'date'));
  writeFileSync(join(project, 'wrong.ts'), CONSUMER.replace('DATE', '20261201'));
  writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions: { ...compilerOptions, outDir: 'out' }, files: ['consumer.ts'] }));
  // Its error is in its own code: checking every library's .d.ts a second time (most of tsc's time) would add nothing.
  writeFileSync(join(project, 'tsconfig.wrong.json'), JSON.stringify({ compilerOptions: { ...compilerOptions, noEmit: true, skipLibCheck: true }, files: ['wrong.ts'] }));
  await starting;
}, 300_000);

// Here, not through whenDone: a cleanup registered inside beforeAll is never run.
afterAll(async () => {
  await hub?.hub.stop();
  await database?.connection.dropDatabase();
  await database?.close();
  if (project) rmSync(project, { recursive: true, force: true });
});

describe('the packages outside the workspace', () => {
  it('install from their tarballs with built JavaScript and types only (no TypeScript sources, no server)', () => {
    const client = JSON.parse(readFileSync(join(project, 'node_modules/@slotcast/client/package.json'), 'utf8')) as { private?: boolean; dependencies: Record<string, string> };
    expect(client.private).toBeUndefined();
    expect(Object.keys(client.dependencies)).not.toContain('@slotcast/server');
    for (const name of ['shared', 'client']) {
      const files = readdirSync(join(project, 'node_modules/@slotcast', name, 'dist'));
      expect(files).toContain('index.js');
      expect(files).toContain('index.d.ts');
      expect(files.filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))).toEqual([]);
    }
    const router = readFileSync(join(project, 'node_modules/@slotcast/client/dist/router.d.ts'), 'utf8');
    const imported = [...router.matchAll(/(?:from |import\()["']([^"']+)["']/g)].map((match) => match[1]);
    expect(new Set(imported)).toEqual(new Set(['@trpc/server', '@trpc/server/unstable-core-do-not-import', '@slotcast/shared']));
  });

  it('typechecks a consumer strictly, with the router typed', async () => {
    const result = await tsc('tsconfig.json');
    timings.typecheck = result.ms;
    expectSuccess('tsc consumer.ts', result);
  }, 120_000);

  it('refuses a consumer that passes a number as the date', async () => {
    const result = await tsc('tsconfig.wrong.json');
    expect(result.code).not.toBe(0);
    const errors = result.stdout.split('\n').filter((line) => line.includes('error TS'));
    expect(errors).toEqual([expect.stringMatching(/^wrong\.ts\(\d+,\d+\): error TS2322: Type 'number' is not assignable to type 'string'\./)]);
  }, 120_000);

  it('runs with plain node: a query, then a live update after a booking is written to MongoDB', async () => {
    const url = `http://127.0.0.1:${hub.hub.port}`;
    const started = performance.now();
    const child: ChildProcess = spawn(process.execPath, ['out/consumer.js', url, date], { cwd: project, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    whenDone(() => child.kill('SIGKILL'));
    const lines: Record<string, unknown>[] = [];
    const stderr: string[] = [];
    const waiter = new Waiter();
    let exitCode: number | null | undefined;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      lines.push(JSON.parse(line) as Record<string, unknown>);
      waiter.wake();
    });
    createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line));
    child.once('exit', (code) => {
      exitCode = code;
      waiter.wake();
    });
    const detail = () => `stdout: ${JSON.stringify(lines)}; stderr: ${stderr.join('\n')}`;
    const failure = () => (exitCode !== undefined && exitCode !== 0 ? new Error(`consumer exited with ${exitCode}; ${detail()}`) : undefined);

    await waiter.until('the snapshot', () => lines.some((line) => 'snapshot' in line), 20_000, { failure, detail });
    expect(lines[0]).toEqual({ query: [{ name: 'Lap Swim', available: 12 }], typed: false });
    expect(lines[1]).toEqual({ snapshot: 1 });

    await hub.hub.database.models.Booking.create({ sessionId, date, userId: 'outside', quantity: 3, status: 'confirmed' });
    await waiter.until('the live update', () => lines.some((line) => 'update' in line), 10_000, { failure, detail });
    expect(lines[2]).toEqual({ update: { name: 'Lap Swim', available: 9, reason: 'booking', text: '9 places left' } });
    await waiter.until('the consumer to exit', () => exitCode !== undefined, 10_000, { detail });
    expect(exitCode).toBe(0);
    expect(stderr).toEqual([]);
    timings.run = Math.round(performance.now() - started);
    console.log(`outside consumer: ${JSON.stringify(timings)} ms`);
  });
});

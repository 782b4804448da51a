import { describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import * as sharedByName from '@slotcast/shared';
import * as sharedBySource from '../../shared/src/index.ts';
import * as clientByName from '@slotcast/client';
import * as clientBySource from '../../client/src/index.ts';
import { ROOT, run } from '../support/processes.ts';

/*
 * The build-free loop: inside the workspace every tool resolves @slotcast/shared and
 * @slotcast/client to their TypeScript sources through tsconfig.json's "paths", whether or not
 * `npm run build:packages` has left a dist/ behind (the outside-consumer test builds one).
 */

const SOURCES: Record<string, string> = {
  '@slotcast/shared': 'shared/src/index.ts',
  '@slotcast/client': 'client/src/index.ts',
  '@slotcast/client/browser': 'client/src/browser.ts',
  '@slotcast/client/react': 'client/src/react.ts',
};

/** Paths in our packages' dist/ (absolute, or relative to the root as esbuild reports them); not @trpc/client/dist. */
const ourBuilds = (paths: string[]) => paths.filter((path) => /^(shared|client)\/dist\//.test(path.startsWith(ROOT) ? path.slice(ROOT.length) : path));

describe('inside the workspace, the packages are their sources', () => {
  it('for tsx at run time, from the root and from a workspace folder', async () => {
    const script = `for (const name of ${JSON.stringify(Object.keys(SOURCES))}) console.log(name, import.meta.resolve(name));`;
    for (const cwd of [ROOT, `${ROOT}server`]) {
      const result = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd });
      expect(result.code, result.stderr).toBe(0);
      const resolved = Object.fromEntries(result.stdout.trim().split('\n').map((line) => line.split(' ')));
      expect(resolved).toEqual(Object.fromEntries(Object.entries(SOURCES).map(([name, file]) => [name, `file://${ROOT}${file}`])));
    }
  });

  it('for vitest', () => {
    expect(sharedByName.parseChannel).toBe(sharedBySource.parseChannel);
    expect(clientByName.RealtimeClient).toBe(clientBySource.RealtimeClient);
  });

  it('for esbuild, as the hub bundles /client/slotcast.js', async () => {
    const result = await build({ entryPoints: [`${ROOT}server/src/http/page/slotcast.ts`], bundle: true, format: 'esm', platform: 'browser', write: false, metafile: true });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs).toContain('client/src/browser.ts');
    expect(inputs).toContain('shared/src/channels.ts');
    expect(ourBuilds(inputs)).toEqual([]);
  });

  it('for tsc', async () => {
    const result = await run(process.execPath, [`${ROOT}node_modules/typescript/bin/tsc`, '-p', 'tsconfig.json', '--listFilesOnly'], { timeoutMs: 60_000 });
    expect(result.code, result.stdout).toBe(0);
    const files = result.stdout.trim().split('\n');
    for (const file of Object.values(SOURCES)) expect(files).toContain(`${ROOT}${file}`);
    expect(ourBuilds(files)).toEqual([]);
  }, 60_000);
});

import { spawnSync } from 'node:child_process';
import { StartupError } from '../startup/errors.ts';

/** Fails with one line that says what to install when a tool the dev services need is missing. */
export function requireCommand(command: string, versionFlag: string, hint: string): void {
  const probe = spawnSync(command, [versionFlag], { stdio: 'ignore' });
  if (probe.error || probe.status !== 0) {
    throw new StartupError(`${command} is not installed or not on PATH: ${hint}`, { cause: probe.error });
  }
}

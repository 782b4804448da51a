export { spawnHub, REPO_ROOT, type HubProcess, type LogLine } from '../../server/src/devservices/hub-process.ts';

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

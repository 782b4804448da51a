import type { TestProject } from 'vitest/node';
import { startDevServices } from '../../server/src/devservices/services.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** MongoDB servers without a database name, one per worker; each test file picks its own database. */
    mongoUris: string[];
    /** The servers are throwaway wire servers of this run (not MONGODB_URI), so their oplog may be cleared. */
    mongoIsOurs: boolean;
    redisUrl: string;
  }
}

/** A wire server per worker and one redis-server for the whole run (or MONGODB_URI / REDIS_URL when set). */
export default async function setup(project: TestProject) {
  const services = await startDevServices({ redis: true, wireServers: project.config.maxWorkers });
  project.provide('mongoUris', services.mongoUris);
  project.provide('mongoIsOurs', services.wireServers.length > 0);
  project.provide('redisUrl', services.redisUrl!);
  return () => services.stop();
}

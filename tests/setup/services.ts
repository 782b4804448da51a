import type { TestProject } from 'vitest/node';
import { startDevServices } from '../../server/src/devservices/services.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A MongoDB server without a database name; each test file picks its own database. */
    mongoUri: string;
    redisUrl: string;
  }
}

/** One wire server and one redis-server for the whole run (or MONGODB_URI / REDIS_URL when set). */
export default async function setup(project: TestProject) {
  const services = await startDevServices({ redis: true });
  project.provide('mongoUri', services.mongoUri);
  project.provide('redisUrl', services.redisUrl!);
  return () => services.stop();
}

export type { AppRouter } from './api/routers/_app.ts';
export { startHub, type Hub, type HubOptions } from './hub.ts';
export { loadConfig, ConfigError, type Config } from './config/env.ts';

import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(options: { level: string; instanceId: string }): Logger {
  return pino({
    level: options.level,
    base: { instance: options.instanceId },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}

import { inject } from 'vitest';
import { EventSource } from 'eventsource';
import { whenDone } from './cleanup.ts';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { loadConfig, type Config } from '../../server/src/config/env.ts';
import { startHub, type Hub } from '../../server/src/hub.ts';
import type { HubSeams } from '../../server/src/seams.ts';
import type { AvailabilityChange, Broadcaster, OwnerUpdate, PublishOptions } from '../../server/src/broadcast/port.ts';
import { createSlotcastClient, type SlotcastClient } from '../../client/src/index.ts';
import type { Role } from '@slotcast/shared';
import { testDatabaseUri } from './database.ts';
import { unique } from './names.ts';
import { Waiter } from './waiter.ts';
import type { LogLine } from './hub-process.ts';

export const TEST_JWT_SECRET = 'test-secret-that-is-at-least-32-characters-long';

/** Remembers what the write side handed the broadcaster, then hands it on (to nothing when it wraps none). */
export class RecordingBroadcaster implements Broadcaster {
  readonly calls: { changes: AvailabilityChange[]; bookings: OwnerUpdate[] }[] = [];
  inner: Broadcaster | undefined;
  async publish(changes: AvailabilityChange[], bookings: OwnerUpdate[] = [], options?: PublishOptions): Promise<void> {
    await this.inner?.publish(changes, bookings, options);
    if (options?.mayPublish && !options.mayPublish()) return;
    this.calls.push({ changes, bookings });
  }
  get changes(): AvailabilityChange[] {
    return this.calls.flatMap((call) => call.changes);
  }
  clear(): void {
    this.calls.length = 0;
  }
}

export interface TestHub {
  hub: Hub;
  /** The hub's log lines (with `captureLogs`), parsed. */
  logs: LogLine[];
  waitForLog(description: string, match: (line: LogLine) => boolean, timeoutMs?: number): Promise<void>;
  config: Config;
  recorder: RecordingBroadcaster;
  client(token?: string): SlotcastClient;
  token(sub: string, roles?: Role[], expiresIn?: string | number): Promise<string>;
}

/** Starts a hub in this process on a free port, with its own database (and Redis prefix); stopped after the file. */
export async function startTestHub(
  options: { redis?: boolean; env?: Record<string, string>; mongoUri?: string; seams?: HubSeams; captureLogs?: boolean } = {},
): Promise<TestHub> {
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    MONGODB_URI: options.mongoUri ?? testDatabaseUri(),
    JWT_SECRET: TEST_JWT_SECRET,
    REDIS_KEY_PREFIX: unique('sc'),
    INSTANCE_ID: unique('hub'),
    ...(options.redis ? { REDIS_URL: inject('redisUrl') } : {}),
    ...options.env,
  });
  const recorder = new RecordingBroadcaster();
  const logs: LogLine[] = [];
  const logWaiter = new Waiter();
  const capture = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) logs.push(JSON.parse(line) as LogLine);
      logWaiter.wake();
      done();
    },
  });
  const logger = options.captureLogs ? pino({ level: 'info' }, capture) : pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const hub = await startHub(config, logger, {
    seams: {
      ...options.seams,
      broadcaster: (production) => {
        recorder.inner = options.seams?.broadcaster?.(production) ?? production;
        return recorder;
      },
    },
  });
  whenDone(() => hub.stop());
  return {
    hub,
    logs,
    waitForLog: (description, match, timeoutMs = 15_000) =>
      logWaiter.until(description, () => logs.some(match), timeoutMs, { detail: () => logs.map((line) => JSON.stringify(line)).join('\n') }),
    config,
    recorder,
    client: (token) =>
      createSlotcastClient({ url: `http://127.0.0.1:${hub.port}`, token, EventSource: EventSource as unknown as typeof globalThis.EventSource }),
    token: (sub, roles = [], expiresIn = '1h') => hub.tokens.sign({ sub, roles }, expiresIn),
  };
}

import { afterAll, inject } from 'vitest';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { MemoryEventLog, type EventLog } from '../../server/src/broadcast/event-log.ts';
import { RedisEventLog } from '../../server/src/broadcast/event-log-redis.ts';
import { unique } from '../support/names.ts';
import { eventLogContract } from './event-log.contract.ts';

const logs: EventLog[] = [];
const connections: Redis[] = [];
afterAll(async () => {
  await Promise.all(logs.map((log) => log.close()));
  await Promise.all(connections.map((redis) => redis.quit()));
});

eventLogContract('memory', async (length) => {
  const log = new MemoryEventLog(length);
  logs.push(log);
  return { writer: log, reader: log };
});

eventLogContract('redis', async (length) => {
  const key = unique('events');
  const open = () => {
    const redis = new Redis(inject('redisUrl'));
    connections.push(redis);
    const log = new RedisEventLog(redis, key, pino({ level: 'silent' }), length);
    logs.push(log);
    return log;
  };
  return { writer: open(), reader: open() };
});

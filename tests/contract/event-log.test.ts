import { afterAll } from 'vitest';
import { pino } from 'pino';
import { MemoryEventLog, type EventLog } from '../../server/src/broadcast/event-log.ts';
import { RedisEventLog } from '../../server/src/broadcast/event-log-redis.ts';
import { CLUSTER_EVENT_BUCKETS, redisKeys } from '../../server/src/cluster/keys.ts';
import { unique } from '../support/names.ts';
import { REDIS_FLAVOURS } from '../support/redis-cluster.ts';
import { eventLogContract } from './event-log.contract.ts';

const logs: EventLog[] = [];
afterAll(async () => {
  await Promise.all(logs.splice(0).map((log) => log.close()));
});

eventLogContract('memory', async (length) => {
  const log = new MemoryEventLog(length);
  logs.push(log);
  return { writer: log, reader: log, streams: 1 };
});

for (const flavour of REDIS_FLAVOURS) {
  eventLogContract(flavour.name, async (length) => {
    // As the hub: one stream on a single Redis, CLUSTER_EVENT_BUCKETS streams spread over a cluster's masters.
    const { events } = redisKeys(unique('events'), { spread: flavour.cluster ? CLUSTER_EVENT_BUCKETS : 1 });
    const open = async () => {
      const redis = await flavour.connect();
      // Each stream's blocking reader on a connection of its own, closed by the log.
      const log = new RedisEventLog(redis, events, pino({ level: 'silent' }), () => redis.duplicate(), length);
      logs.push(log);
      return log;
    };
    return { writer: await open(), reader: await open(), streams: events.length };
  });
}

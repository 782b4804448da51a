import { describe, expect, it } from 'vitest';
import { Types } from 'mongoose';
import { startWireServer } from '../../server/src/devservices/wire-server.ts';
import { withDatabase } from '../../server/src/devservices/services.ts';
import { STALLED_AFTER_MS } from '../../server/src/feed/liveness.ts';
import { whenDone } from '../support/cleanup.ts';
import { startTestHub } from '../support/hub.ts';
import { unique } from '../support/names.ts';
import { freezeProcess } from '../support/freeze.ts';

const gauge = async (registry: { getSingleMetricAsString(name: string): Promise<string> }, name: string) =>
  Number(/ ([0-9.e+-]+)$/m.exec(await registry.getSingleMetricAsString(name))?.[1]);

describe('feed liveness', () => {
  it('a leader whose feed stalls (MongoDB frozen) says so: healthy() is false, the gauge counts, and both recover when MongoDB is back', async () => {
    const wire = await startWireServer();
    whenDone(() => wire.stop());
    const t = await startTestHub({ redis: true, mongoUri: withDatabase(wire.uri, unique('live')), captureLogs: true });
    let thaw = () => undefined as void;
    // Registered last, so it runs first: the hub's stop and the wire server's need a running MongoDB.
    whenDone(() => thaw());
    const feed = t.hub.feed!;
    await t.waitForLog('the lease', (line) => line.msg === 'leader lease acquired');
    await t.hub.database.models.Session.create({ _id: new Types.ObjectId(), name: 'Swim', startTime: '07:00', endTime: '08:00', capacity: 10 });
    await feed.idle();
    expect(feed.healthy()).toBe(true);
    expect(feed.progress().stalledMs).toBeLessThan(STALLED_AFTER_MS);

    thaw = freezeProcess(wire.pid);
    await t.waitForLog('the stall', (line) => line.msg === 'change feed stalled', 15_000);
    expect(feed.healthy()).toBe(false);
    expect(feed.progress().stalledMs).toBeGreaterThanOrEqual(STALLED_AFTER_MS);
    expect(await gauge(t.hub.metrics.registry, 'slotcast_feed_stalled_seconds')).toBeGreaterThanOrEqual(STALLED_AFTER_MS / 1000);

    thaw();
    await t.waitForLog('the recovery', (line) => line.msg === 'change feed is making progress again', 15_000);
    expect(feed.healthy()).toBe(true);
    expect(await gauge(t.hub.metrics.registry, 'slotcast_feed_stalled_seconds')).toBeLessThan(STALLED_AFTER_MS / 1000);
    // It recovered before the give-up limit: the lease stayed.
    expect(t.logs.filter((line) => line.msg.startsWith('change feed made no progress'))).toEqual([]);
    expect(t.hub.services.lease.isHeld()).toBe(true);
  }, 60_000);
});

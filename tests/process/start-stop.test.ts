import { describe, expect, it } from 'vitest';
import { spawnHub, processAlive } from '../support/hub-process.ts';
import { testDatabaseUri } from '../support/database.ts';
import { freePort } from '../../server/src/devservices/redis-server.ts';
import { inject } from 'vitest';
import { waitFor } from '../support/events.ts';

describe('npm start with no environment', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('serves health, seeds, and stops everything on %s', async (signal) => {
    const hub = spawnHub({ PORT: '0' });
    const port = await hub.port();
    const database = await hub.waitForLog((line) => line.msg.startsWith('embedded development database started'));
    const seeded = await hub.waitForLog((line) => line.msg === 'demo data seeded');
    expect(seeded.sessions).toBe(12);

    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    // Ready once its first checks answer (a cold embedded database on a busy machine may take a moment).
    const ready = await waitFor('readiness', async () => {
      const response = await fetch(`http://127.0.0.1:${port}/readyz`);
      return response.status === 200 ? response : undefined;
    });
    expect(await ready.json()).toEqual({ status: 'ready' });
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toContain('slotcast_http_requests_total');

    const javaPid = database.pid as number;
    expect(processAlive(javaPid)).toBe(true);
    expect(await hub.stop(signal)).toBe(0);
    await waitFor('the embedded database to exit', () => !processAlive(javaPid) || undefined);
    expect(hub.logs.map((line) => line.msg)).toContain('stopped');
  }, 90_000);
});

describe('start-up errors', () => {
  it('stops with one line naming a bad variable', async () => {
    const hub = spawnHub({ PORT: 'abc' });
    expect(await hub.exited).toBe(1);
    expect(hub.stderr).toHaveLength(1);
    expect(hub.stderr[0]).toMatch(/^Invalid configuration: PORT must be a number \(got "abc"\)$/);
  });

  it('reports unready while Redis does not answer, and ready when it does', async () => {
    const deadRedis = `redis://127.0.0.1:${await freePort()}`;
    const hub = spawnHub({ PORT: '0', MONGODB_URI: testDatabaseUri(), REDIS_URL: deadRedis });
    try {
      const port = await hub.port();
      const response = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(response.status).toBe(503);
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    } finally {
      expect(await hub.stop()).toBe(0);
    }

    const good = spawnHub({ PORT: '0', MONGODB_URI: testDatabaseUri(), REDIS_URL: inject('redisUrl') });
    try {
      const port = await good.port();
      await waitFor('readiness with a live Redis', async () =>
        (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200 || undefined,
      );
    } finally {
      expect(await good.stop()).toBe(0);
    }
    // It exited by itself once stopped: nothing it opened (a Redis connection, a timer) was left holding it.
    expect(good.logs.map((line) => line.msg)).toContain('stopped');
    expect(good.logs.filter((line) => line.msg.startsWith('still running'))).toEqual([]);
  }, 60_000);
});

describe('a hub started by a supervisor', () => {
  it('shuts down cleanly when its standard input closes (EXIT_ON_STDIN_CLOSE)', async () => {
    const hub = spawnHub({ PORT: '0', MONGODB_URI: testDatabaseUri() });
    await hub.port();
    hub.child.stdin!.end();
    expect(await hub.exited).toBe(0);
    expect(hub.logs.map((line) => line.msg)).toContain('stopped');
  }, 60_000);
});

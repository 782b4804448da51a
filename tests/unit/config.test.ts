import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../server/src/config/env.ts';

describe('configuration', () => {
  it('works with no environment at all', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      PORT: 3000,
      HOST: '0.0.0.0',
      CACHE_TTL_SECONDS: 3600,
      COALESCE_MS: 50,
      LOW_AVAILABILITY_RATIO: 0.2,
      HIGH_DEMAND_BOOKINGS: 10,
      HIGH_DEMAND_WINDOW_MINUTES: 60,
      TIMEZONE: 'UTC',
    });
    expect(config.MONGODB_URI).toBeUndefined();
    expect(config.REDIS_URL).toBeUndefined();
    expect(config.INSTANCE_ID).toMatch(/-\d+$/);
  });

  it('reads every contract variable', () => {
    const config = loadConfig({
      PORT: '8080',
      HOST: '127.0.0.1',
      MONGODB_URI: 'mongodb://a:27017,b:27017/slotcast?replicaSet=rs0',
      REDIS_URL: 'redis://127.0.0.1:6379/2',
      JWT_SECRET: 'x'.repeat(32),
      INSTANCE_ID: 'hub-a',
      CACHE_TTL_SECONDS: '60',
      COALESCE_MS: '0',
      LOW_AVAILABILITY_RATIO: '0.25',
      HIGH_DEMAND_BOOKINGS: '3',
      HIGH_DEMAND_WINDOW_MINUTES: '15',
      TIMEZONE: 'Europe/Paris',
      CORS_ORIGINS: 'https://a.example, https://b.example',
    });
    expect(config).toMatchObject({
      PORT: 8080,
      COALESCE_MS: 0,
      LOW_AVAILABILITY_RATIO: 0.25,
      TIMEZONE: 'Europe/Paris',
      CORS_ORIGINS: ['https://a.example', 'https://b.example'],
    });
  });

  it('has request limits by default, and reads them', () => {
    expect(loadConfig({})).toMatchObject({
      TRPC_MAX_BATCH_CALLS: 16,
      TRPC_MAX_DAYS_PER_REQUEST: 186,
      TRPC_RATE_LIMIT_REQUESTS: 300,
      TRPC_RATE_LIMIT_WINDOW_SECONDS: 10,
      SSE_RATE_LIMIT_OPENS: 30,
      SSE_RATE_LIMIT_WINDOW_SECONDS: 60,
      TRUST_PROXY: 0,
    });
    const config = loadConfig({ TRPC_MAX_BATCH_CALLS: '4', TRPC_RATE_LIMIT_REQUESTS: '0', SSE_RATE_LIMIT_OPENS: '0', TRUST_PROXY: '2' });
    expect(config).toMatchObject({ TRPC_MAX_BATCH_CALLS: 4, TRPC_RATE_LIMIT_REQUESTS: 0, SSE_RATE_LIMIT_OPENS: 0, TRUST_PROXY: 2 });
  });

  it('treats empty values as unset', () => {
    const config = loadConfig({ PORT: '', REDIS_URL: '  ' });
    expect(config.PORT).toBe(3000);
    expect(config.REDIS_URL).toBeUndefined();
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '80.5'],
    ['MONGODB_URI', 'http://localhost'],
    ['REDIS_URL', 'localhost:6379'],
    ['REDIS_CLUSTER_NODES', 'redis-1'],
    ['REDIS_CLUSTER_NODES', 'redis-1:6379,redis-2:0'],
    ['REDIS_CLUSTER_NODES', 'redis://redis-1:6379'],
    ['JWT_SECRET', 'short'],
    ['INSTANCE_ID', 'has space'],
    ['CACHE_TTL_SECONDS', '0'],
    ['COALESCE_MS', '-1'],
    ['LOW_AVAILABILITY_RATIO', '1.5'],
    ['LOW_AVAILABILITY_RATIO', 'lots'],
    ['HIGH_DEMAND_BOOKINGS', '0'],
    ['HIGH_DEMAND_WINDOW_MINUTES', 'hour'],
    ['TIMEZONE', 'Mars/Olympus'],
    ['LOG_LEVEL', 'loud'],
    ['TRPC_MAX_BATCH_CALLS', '0'],
    ['TRPC_MAX_DAYS_PER_REQUEST', 'many'],
    ['TRPC_RATE_LIMIT_REQUESTS', '-1'],
    ['TRPC_RATE_LIMIT_WINDOW_SECONDS', '0'],
    ['SSE_RATE_LIMIT_OPENS', '1.5'],
    ['SSE_RATE_LIMIT_WINDOW_SECONDS', '0'],
    ['TRUST_PROXY', 'true'],
  ])('names %s when it is %j', (variable, value) => {
    let thrown: unknown;
    try {
      loadConfig({ [variable]: value });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).variable).toBe(variable);
    expect((thrown as ConfigError).message).toMatch(new RegExp(`^Invalid configuration: ${variable} `));
    expect((thrown as ConfigError).message).not.toContain('\n');
  });

  it('reads REDIS_CLUSTER_NODES as seeds, IPv6 in brackets', () => {
    expect(loadConfig({ REDIS_CLUSTER_NODES: 'redis-1:7000, 10.0.0.2:7001,[::1]:7002' }).REDIS_CLUSTER_NODES).toEqual([
      { host: 'redis-1', port: 7000 },
      { host: '10.0.0.2', port: 7001 },
      { host: '::1', port: 7002 },
    ]);
  });

  it.each([
    [{ REDIS_URL: 'redis://127.0.0.1:6379', REDIS_CLUSTER_NODES: '127.0.0.1:7000' }, 'REDIS_CLUSTER_NODES', /REDIS_URL are both set/],
    [{ REDIS_CLUSTER_NODES: '127.0.0.1:7000', REDIS_KEY_PREFIX: '{app}' }, 'REDIS_KEY_PREFIX', /hash tag/],
  ])('refuses %j in one line naming %s', (env, variable, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    try {
      loadConfig(env);
    } catch (error) {
      expect((error as ConfigError).variable).toBe(variable);
      expect((error as ConfigError).message).toMatch(message);
      expect((error as ConfigError).message).not.toContain('\n');
    }
  });
});

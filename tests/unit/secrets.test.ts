import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolveSrv } from 'node:dns/promises';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../server/src/config/env.ts';
import { credentialsOf, maskCredentials, redact, secretsOf } from '../../server/src/config/secrets.ts';
import { listenFailure } from '../../server/src/startup/checks.ts';
import { whenDone } from '../support/cleanup.ts';

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`no ConfigError for ${JSON.stringify(Object.keys(env))}`);
}

describe('secrets never reach a message', () => {
  it.each([
    ['mongodb://app:s3cret@a:27017,b:27017/db?replicaSet=rs0', 'mongodb://***@a:27017,b:27017/db?replicaSet=rs0'],
    ['redis://:s3cret@cache:6379/2', 'redis://***@cache:6379/2'],
    ['mongodb://app:pa@ss/w0rd@host/db', 'mongodb://***@host/db'],
    ['app:s3cret@host', '***@host'],
    ['mongodb://host:27017/db', 'mongodb://host:27017/db'],
  ])('masks the credentials of %s', (uri, masked) => {
    expect(maskCredentials(uri)).toBe(masked);
  });

  it('finds the password as written and decoded, and redacts every one of them', () => {
    const uri = 'mongodb://app:p%40ss-word@host/db';
    expect(credentialsOf(uri)).toEqual(['app:p%40ss-word', 'p%40ss-word', 'p@ss-word']);
    expect(credentialsOf('mongodb://host/db')).toEqual([]);
    const secrets = secretsOf({ JWT_SECRET: 'j'.repeat(32), MONGODB_URI: uri, REDIS_URL: 'redis://:r3dis@cache' });
    const text = `failed: ${uri} p@ss-word ${'j'.repeat(32)} redis://:r3dis@cache`;
    expect(redact(text, secrets)).toBe('failed: mongodb://***@host/db *** *** redis://***@cache');
  });

  it.each([
    ['JWT_SECRET', 'too-short-secret', 'too-short-secret'],
    ['MONGODB_URI', 'mysql://root:hunter2@db/app', 'hunter2'],
    ['MONGODB_URI', 'mongodb//root:hunter2@db/app', 'hunter2'],
    ['REDIS_URL', 'http://:hunter2@cache:6379', 'hunter2'],
  ])('a bad %s is named and its secret not shown', (variable, value, secret) => {
    const error = configError({ [variable]: value });
    expect(error.variable).toBe(variable);
    expect(error.message).not.toContain(secret);
  });

  it('shows how long a refused JWT_SECRET was, and other bad values as given', () => {
    expect(configError({ JWT_SECRET: 'short' }).message).toBe('Invalid configuration: JWT_SECRET must be at least 32 characters (got 5 characters)');
    expect(configError({ PORT: 'abc' }).message).toBe('Invalid configuration: PORT must be a number (got "abc")');
  });
});

describe('a failed listen is one line naming PORT', () => {
  it('maps the EADDRINUSE of an http server (as the hub listens) and nothing that is not a listen', async () => {
    const first = createServer();
    await new Promise<void>((resolve) => first.listen(0, '127.0.0.1', resolve));
    whenDone(() => new Promise((resolve) => first.close(resolve)));
    const { port } = first.address() as AddressInfo;
    const second = createServer();
    const error = await new Promise<Error>((resolve) => second.once('error', resolve).listen(port, '127.0.0.1'));

    expect(listenFailure(error, port, '127.0.0.1')?.message).toMatch(new RegExp(`^PORT ${port} is already in use`));
    // The same code from MongoDB's DNS lookup of a mongodb+srv:// host is not about HOST.
    const dnsError = await resolveSrv('_mongodb._tcp.slotcast.invalid').then(
      () => new Error('resolved'),
      (failure: Error) => failure,
    );
    expect(listenFailure(dnsError, port, '127.0.0.1')).toBeUndefined();
  });
});

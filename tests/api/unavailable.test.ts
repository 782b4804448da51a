import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../support/hub.ts';

let t: TestHub;

/** A port nothing listens on: Redis "down" from the start. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

beforeAll(async () => {
  t = await startTestHub({ env: { REDIS_URL: `redis://127.0.0.1:${await closedPort()}` }, seams: { changeFeed: false } });
});

describe('a backing service that does not answer', () => {
  it('answers queries with a typed, retryable SERVICE_UNAVAILABLE naming Redis, and /readyz with 503', async () => {
    const response = await fetch(`${t.hub.url}/trpc/availability.byDate?input=${encodeURIComponent(JSON.stringify({ date: '2027-01-30' }))}`);
    const body = (await response.json()) as { error: { message: string; data: { code: string; httpStatus: number } } };
    expect(response.status).toBe(503);
    expect(body.error.data).toMatchObject({ code: 'SERVICE_UNAVAILABLE', httpStatus: 503 });
    expect(body.error.message).toBe('Redis is not answering; retry shortly');
    expect((await fetch(`${t.hub.url}/readyz`)).status).toBe(503);
  });
});

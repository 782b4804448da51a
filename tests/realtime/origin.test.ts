import { beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../support/hub.ts';
import { connect, subscribe } from '../support/sockets.ts';

let t: TestHub;
let url: string;

beforeAll(async () => {
  t = await startTestHub({ env: { CORS_ORIGINS: 'https://shop.example' } });
  url = `http://127.0.0.1:${t.hub.port}`;
});

describe('Origin check (CORS_ORIGINS)', () => {
  it('refuses a WebSocket upgrade and a polling handshake from another origin', async () => {
    await expect(connect(url, { origin: 'https://evil.example', transports: ['websocket'] })).rejects.toBeDefined();
    await expect(connect(url, { origin: 'https://evil.example', transports: ['polling'] })).rejects.toBeDefined();
  });

  it('accepts the listed origin and clients that send none (services)', async () => {
    const browser = await connect(url, { origin: 'https://shop.example', transports: ['websocket'] });
    expect(await subscribe(browser, { channel: 'availability' })).toMatchObject({ ok: true });
    await expect(connect(url, { transports: ['websocket'] })).resolves.toBeDefined();
  });

  it('answers CORS preflights for /trpc only for the listed origin', async () => {
    const preflight = (origin: string) =>
      fetch(`${url}/trpc/availability.byDate`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'GET' } });
    const good = await preflight('https://shop.example');
    expect(good.status).toBe(204);
    expect(good.headers.get('access-control-allow-origin')).toBe('https://shop.example');
    const bad = await preflight('https://evil.example');
    expect(bad.status).toBe(403);
    expect(bad.headers.get('access-control-allow-origin')).toBeNull();
  });
});

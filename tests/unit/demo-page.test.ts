import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tokens } from '../../server/src/auth/tokens.ts';
import { createPageHandler } from '../../server/src/http/page.ts';
import { createLogger } from '../../server/src/observability/logger.ts';
import { TEST_JWT_SECRET } from '../support/hub.ts';

const tokens = new Tokens(TEST_JWT_SECRET);
const logger = createLogger({ level: 'silent', instanceId: 'page-test' });
const servers: Server[] = [];

async function serve(demo: boolean): Promise<string> {
  const handler = createPageHandler({
    today: () => '2026-12-01',
    logger,
    simulate: demo ? async () => 14 : undefined,
    demoToken: demo ? (user, staff) => tokens.sign({ sub: user, roles: staff ? ['staff'] : [] }) : undefined,
  });
  const server = createServer((req, res) => void handler(req, res));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

let demo: string;
let own: string;
beforeAll(async () => {
  [demo, own] = await Promise.all([serve(true), serve(false)]);
});
afterAll(() => Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve)))));

describe('the demo pages and endpoints', () => {
  it('signs demo users (and staff) only when the embedded database is in use', async () => {
    const response = await fetch(`${demo}/demo/token?user=ada&role=staff`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { token: string; user: string; staff: boolean };
    expect(body).toMatchObject({ user: 'ada', staff: true });
    const principal = await tokens.verify(body.token);
    expect(principal.userId).toBe('ada');
    expect([...principal.roles]).toEqual(['staff']);
    expect(await (await fetch(`${demo}/demo/config`)).json()).toEqual({ today: '2026-12-01', simulate: true, demo: true });

    expect((await fetch(`${demo}/demo/token?user=${encodeURIComponent('a b/c')}`)).status).toBe(400);
    expect((await fetch(`${own}/demo/token?user=ada`)).status).toBe(404);
    expect(await (await fetch(`${own}/demo/config`)).json()).toEqual({ today: '2026-12-01', simulate: false, demo: false });
  });

  it('serves the booking page, the staff page, their scripts and a favicon', async () => {
    for (const [path, type, text] of [
      ['/', 'text/html; charset=utf-8', 'book a session'],
      ['/staff', 'text/html; charset=utf-8', 'staff dashboard'],
      ['/favicon.ico', 'image/svg+xml', '<svg'],
    ] as const) {
      const response = await fetch(`${own}${path}`);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type')).toBe(type);
      expect(await response.text()).toContain(text);
    }
    const staff = await fetch(`${own}/assets/staff.js`);
    expect(staff.status).toBe(200);
    // Chart.js is in the dashboard's bundle and not in the booking page's; zod is in neither.
    const [staffJs, appJs] = [await staff.text(), await (await fetch(`${own}/assets/app.js`)).text()];
    expect(staffJs).toContain('matrix');
    expect(appJs.length).toBeLessThan(120_000);
    expect(staffJs.length).toBeLessThan(320_000);
    expect(appJs).not.toContain('matrix');
  }, 60_000);
});

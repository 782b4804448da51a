import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'esbuild';
import { todayIn } from '@slotcast/shared';
import { connectDatabase, type Database } from '../../server/src/db/connect.ts';
import { freePort } from '../../server/src/devservices/redis-server.ts';
import { spawnHub, REPO_ROOT, type HubProcess } from '../support/hub-process.ts';
import { testDatabaseUri } from '../support/database.ts';
import { TEST_JWT_SECRET } from '../support/hub.ts';

/*
 * Pages made the way docs/client.md tells a newcomer: a plain HTML page that imports the hub's
 * /client/slotcast.js (the page itself is the one in the docs, served from another origin), and
 * a React page using @slotcast/client/react, bundled here with esbuild.
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const PLACEHOLDER = 'https://hub.example.com';
const today = todayIn('UTC');

/** The first ```html block of docs/client.md's plain-page section. */
function plainPageFromDocs(): string {
  const docs = readFileSync(`${REPO_ROOT}docs/client.md`, 'utf8');
  const section = docs.slice(docs.indexOf('## In a plain browser page'));
  const match = /```html\n([\s\S]*?)```/.exec(section);
  if (!match) throw new Error('docs/client.md has no html block under "## In a plain browser page"');
  return match[1]!;
}

let browser: Browser;
let database: Database;
let hub: HubProcess;
let hubUrl: string;
let site: Server;
let siteUrl: string;
let reactBundle: string;
const sessions: Record<string, string> = {};

beforeAll(async () => {
  const mongoUri = testDatabaseUri();
  database = await connectDatabase(mongoUri);
  for (const [name, startTime, endTime, capacity] of [['Aqua Fit', '09:00', '10:00', 20], ['Early Swim', '06:30', '07:30', 8]] as const) {
    const session = await database.models.Session.create({ name, startTime, endTime, capacity, daysOfWeek: [], active: true });
    sessions[name] = String(session._id);
  }
  const port = await freePort();
  hub = spawnHub({ PORT: String(port), HOST: '127.0.0.1', MONGODB_URI: mongoUri, JWT_SECRET: TEST_JWT_SECRET, COALESCE_MS: '20' });
  hubUrl = `http://127.0.0.1:${await hub.port()}`;

  const bundled = await build({
    entryPoints: [`${REPO_ROOT}tests/browser/react-page.ts`],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    write: false,
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  reactBundle = bundled.outputFiles[0]!.text;

  // Another origin than the hub's, as a page on the customer's own site would be.
  const files: Record<string, [string, string]> = {
    '/plain.html': ['text/html', plainPageFromDocs().replaceAll(PLACEHOLDER, hubUrl)],
    '/react.html': ['text/html', '<!doctype html><meta charset="utf-8"><div id="root"></div><script type="module" src="/react.js"></script>'],
    '/react.js': ['text/javascript', reactBundle],
    '/favicon.ico': ['image/x-icon', ''], // or the browser logs a 404, which the pages' error checks would count
  };
  site = createServer((req, res) => {
    const file = files[(req.url ?? '/').split('?')[0]!];
    res.writeHead(file ? 200 : 404, { 'content-type': file?.[0] ?? 'text/plain' }).end(file?.[1] ?? 'not found');
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  siteUrl = `http://127.0.0.1:${(site.address() as { port: number }).port}`;

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => (site ? site.close(resolve) : resolve(undefined)));
  await hub?.stop();
  await database?.connection.dropDatabase();
  await database?.close();
});

async function book(name: string, quantity: number): Promise<void> {
  await database.models.Booking.create({ sessionId: sessions[name], date: today, userId: 'page-test', quantity, status: 'confirmed' });
}

/** How a row reads now, from MongoDB itself: what any page must end up showing. */
async function rowText(name: string): Promise<string> {
  const session = (await database.models.Session.findById(sessions[name]).lean())!;
  const bookings = await database.models.Booking.find({ sessionId: session._id, date: today, status: 'confirmed' }).lean();
  const left = session.capacity - bookings.reduce((sum, booking) => sum + booking.quantity, 0);
  return `${session.startTime} ${name}: ${left} ${left === 1 ? 'place' : 'places'} left`;
}

async function openPage(path: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => void (message.type() === 'error' && errors.push(message.text())));
  await page.goto(`${siteUrl}${path}`);
  return { page, errors };
}

describe('the browser client without a bundler', () => {
  it('is served by the hub as one ESM file that any origin may load', async () => {
    const response = await fetch(`${hubUrl}/client/slotcast.js`, { headers: { origin: siteUrl } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    const text = await response.text();
    expect(text).toMatch(/export\s*\{[^}]*\bcreateRealtimeClient\b/);
    expect(text).not.toMatch(/^\s*import\s/m); // one file: nothing left to fetch
    expect(gzipSync(text).length).toBeLessThan(20_000);
  });

  it("docs/client.md's page, served from another origin, renders the rows and a booking within 2 s", async () => {
    const { page, errors } = await openPage('/plain.html');
    await page.locator('li').nth(1).waitFor({ timeout: 15_000 });
    expect(await page.locator('li').allTextContents()).toEqual([await rowText('Early Swim'), await rowText('Aqua Fit')]);
    const written = Date.now();
    await book('Early Swim', 3);
    await page.getByText(await rowText('Early Swim'), { exact: true }).waitFor({ timeout: 2_000 });
    expect(Date.now() - written).toBeLessThan(2_000);
    expect(errors).toEqual([]);
    await page.close();
  }, 30_000);
});

describe('@slotcast/client/react', () => {
  it('useChannel and useConnectionState render the rows, the state and a live booking (in StrictMode)', async () => {
    const { page, errors } = await openPage(`/react.html?hub=${encodeURIComponent(hubUrl)}&date=${today}`);
    await page.locator('main[data-connection="connected"][data-status="subscribed"] li').nth(1).waitFor({ timeout: 15_000 });
    expect(await page.locator('li').allTextContents()).toEqual([await rowText('Early Swim'), await rowText('Aqua Fit')]);
    await book('Aqua Fit', 19);
    expect(await rowText('Aqua Fit')).toBe('09:00 Aqua Fit: 1 place left');
    await page.locator(`li[data-session-id="${sessions['Aqua Fit']}"]`, { hasText: '09:00 Aqua Fit: 1 place left' }).waitFor({ timeout: 2_000 });
    expect(await page.locator('li').count()).toBe(2);
    expect(errors).toEqual([]);
    await page.close();
    console.log(`react page bundle: ${reactBundle.length} bytes minified, ${gzipSync(reactBundle).length} gzipped`);
  }, 30_000);
});

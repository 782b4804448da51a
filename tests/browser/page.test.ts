import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { Types } from 'mongoose';
import { todayIn } from '@slotcast/shared';
import { connectDatabase, type Database } from '../../server/src/db/connect.ts';
import { seedDemoData } from '../../server/src/db/seed.ts';
import { freePort } from '../../server/src/devservices/redis-server.ts';
import { spawnHub, type HubProcess } from '../support/hub-process.ts';
import { testDatabaseUri } from '../support/database.ts';
import { TEST_JWT_SECRET } from '../support/hub.ts';

/** Debian's chromium (apt-get install chromium); never a downloaded browser. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const today = todayIn('UTC');
/** Pictures of this test go to a temporary folder; the README's come from `npm run screenshots`. */
const SHOTS = mkdtempSync(join(tmpdir(), 'slotcast-shots-'));

let browser: Browser;
let page: Page;
let database: Database;
let hub: HubProcess;
let port: number;
let mongoUri: string;

const startHubProcess = () => spawnHub({ PORT: String(port), HOST: '127.0.0.1', MONGODB_URI: mongoUri, JWT_SECRET: TEST_JWT_SECRET, COALESCE_MS: '20' });

beforeAll(async () => {
  mongoUri = testDatabaseUri();
  database = await connectDatabase(mongoUri);
  await seedDemoData(database.models, { today });
  port = await freePort();
  hub = startHubProcess();
  await hub.port();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
  page = await browser.newPage({ viewport: { width: 900, height: 1100 } });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await hub?.stop();
  await database?.close();
});

const slot = (sessionId: string) => page.locator(`li.slot[data-session-id="${sessionId}"][data-date="${today}"]`);

describe('the demo page in a real browser', () => {
  it('shows the schedule, and a booking written into MongoDB within 2 s', async () => {
    await page.goto(`http://127.0.0.1:${port}/?date=${today}`);
    await page.locator('#connection.connection--connected').waitFor({ timeout: 15_000 });
    await page.locator('li.slot').first().waitFor();
    const sessions = await database.models.Session.find({ name: 'Night Swim' }).lean();
    const nightSwim = String(sessions[0]!._id);
    const before = Number((await slot(nightSwim).locator('.left').textContent())!.match(/\d+/)![0]);

    const written = Date.now();
    await database.models.Booking.create({ sessionId: new Types.ObjectId(nightSwim), date: today, userId: 'browser-test', quantity: 3, status: 'confirmed' });
    await page.waitForFunction(
      ({ id, expected, date }) => document.querySelector(`li.slot[data-session-id="${id}"][data-date="${date}"] .left`)?.textContent === `${expected} places left`,
      { id: nightSwim, expected: before - 3, date: today },
      { timeout: 2_000, polling: 50 },
    );
    expect(Date.now() - written).toBeLessThan(2_000);
    expect(await page.locator('li.slot').count()).toBeGreaterThanOrEqual(9);
    expect(await page.getByRole('progressbar').count()).toBe(await page.locator('li.slot').count());
    expect(await page.getByLabel('Week from').inputValue()).toBe(today);
  }, 30_000);

  it('reconnects by itself after the hub restarts and shows the database state', async () => {
    const [spin] = await database.models.Session.find({ name: 'Spin Class' }).lean();
    const spinId = String(spin!._id);
    expect(await hub.stop('SIGTERM')).toBe(0);
    await page.locator('#connection.connection--disconnected').waitFor({ timeout: 10_000 });
    // The old numbers are dimmed while they may be stale (the transition takes 0.3 s).
    await page.waitForFunction(() => Number(getComputedStyle(document.querySelector('.week')!).opacity) < 0.5, undefined, { timeout: 5_000 });
    await database.models.Booking.create({ sessionId: spin!._id, date: today, userId: 'browser-test', quantity: 2, status: 'confirmed' });
    const booked = (await database.models.Booking.aggregate<{ n: number }>([
      { $match: { sessionId: spin!._id, date: today, status: { $in: ['pending', 'confirmed'] } } },
      { $group: { _id: null, n: { $sum: '$quantity' } } },
    ]))[0]!.n;
    hub = startHubProcess();
    await page.locator('#connection.connection--connected').waitFor({ timeout: 30_000 });
    const left = Math.max(0, spin!.capacity - booked);
    await page.waitForFunction(
      ({ id, text, date }) => document.querySelector(`li.slot[data-session-id="${id}"][data-date="${date}"] .left`)?.textContent === text,
      { id: spinId, date: today, text: left === 0 ? 'Full' : `${left} ${left === 1 ? 'place' : 'places'} left` },
      { timeout: 10_000 },
    );
    await page.screenshot({ path: `${SHOTS}/demo-page.png`, fullPage: true });
  }, 60_000);

  it('is usable from the keyboard and on a phone-sized screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('date');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
    expect(overflow).toBe(false);
    await page.screenshot({ path: `${SHOTS}/demo-page-phone.png` });
    expect(statSync(`${SHOTS}/demo-page-phone.png`).size).toBeGreaterThan(10_000);
  }, 30_000);
});

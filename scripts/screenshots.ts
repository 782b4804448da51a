// npm run screenshots: starts a hub as `npm start` does (embedded database, demo data, demo
// sign-in), opens the booking page and the staff dashboard in Debian's chromium, on a desktop
// and a phone-sized screen, and writes the pictures the README shows into docs/.
import type { Browser, Page } from 'playwright-core';
import { freePort } from '../server/src/devservices/redis-server.ts';
import { spawnHub, REPO_ROOT } from '../tests/support/hub-process.ts';
import { launchChromium } from '../tests/browser/support.ts';

const DOCS = `${REPO_ROOT}docs`;
const DESKTOP = { width: 1440, height: 960 };
const PHONE = { width: 390, height: 844 };

async function shoot(browser: Browser, base: string, viewport: { width: number; height: number }, suffix: string): Promise<void> {
  // Reduced motion: charts and bars are drawn at once, so the pictures show final states.
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1, reducedMotion: 'reduce' });
  const page: Page = await context.newPage();
  await page.goto(`${base}/?user=ada`);
  await page.locator('#connection.connection--connected').waitFor({ timeout: 30_000 });
  await page.locator('li.slot').first().waitFor();
  await page.screenshot({ path: `${DOCS}/week${suffix}.png` });
  await page.locator('li.slot:not(.slot--full):not(.slot--closed) button.act').nth(3).click();
  await page.locator('#countdown').waitFor();
  await page.screenshot({ path: `${DOCS}/checkout${suffix}.png` });
  await page.getByRole('button', { name: 'Release' }).click();

  const staff = await context.newPage();
  await staff.goto(`${base}/staff`);
  await staff.waitForFunction(() => Number(document.getElementById('dashboard')?.dataset.refreshed ?? 0) > 0, undefined, { timeout: 30_000 });
  // A burst of simulated bookings, so the alert feed has something to show.
  await page.getByRole('button', { name: 'Simulate bookings' }).click();
  await staff.locator('#alerts li').first().waitFor({ timeout: 15_000 }).catch(() => undefined);
  const since = Date.now();
  await staff.waitForFunction((t) => Number(document.getElementById('dashboard')?.dataset.refreshed ?? 0) > t, since, { timeout: 15_000 });
  await staff.screenshot({ path: `${DOCS}/dashboard${suffix}.png`, fullPage: suffix === '' });
  await context.close();
}

const port = await freePort();
const hub = spawnHub({ PORT: String(port), HOST: '127.0.0.1' }, { name: 'screenshots' });
let browser: Browser | undefined;
try {
  await hub.port();
  browser = await launchChromium();
  const base = `http://127.0.0.1:${port}`;
  await shoot(browser, base, DESKTOP, '');
  await shoot(browser, base, PHONE, '-phone');
  process.stdout.write(`screenshots written to ${DOCS}: week, checkout, dashboard (desktop and -phone)\n`);
} finally {
  await browser?.close();
  await hub.stop();
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { Types } from 'mongoose';
import { todayIn } from '@slotcast/shared';
import { connectDatabase, type Database } from '../../server/src/db/connect.ts';
import { seedDemoData } from '../../server/src/db/seed.ts';
import { testDatabaseUri } from '../support/database.ts';
import { consoleErrors, startPageHub, placesLeft, row, rowSays, signedInPage } from './support.ts';

const today = todayIn('UTC');
let browser: Browser;
let database: Database;
let stopPageHub: (() => Promise<void>) | undefined;
let base: string;
/** A session with one place, every day: the place two windows race for. */
let lastPlace: string;
let nightSwim: string;

beforeAll(async () => {
  const mongoUri = testDatabaseUri();
  database = await connectDatabase(mongoUri);
  await seedDemoData(database.models, { today });
  const [swim] = await database.models.Session.find({ name: 'Night Swim' }).lean();
  nightSwim = String(swim!._id);
  const single = await database.models.Session.create({ name: 'Last Place Workshop', startTime: '22:00', endTime: '23:00', capacity: 1, active: true });
  lastPlace = String(single._id);
  // WAITLIST_OFFER_SECONDS stays long: the test accepts the offer, it does not wait for it to lapse.
  ({ base, browser, stop: stopPageHub } = await startPageHub(mongoUri));
}, 60_000);

afterAll(async () => {
  await stopPageHub?.();
  await database?.close();
});

async function open(user: string | undefined, path = `/?date=${today}`, viewport?: { width: number; height: number }): Promise<Page> {
  const { page } = await signedInPage(browser, user, { viewport });
  await page.goto(`${base}${path}`);
  await page.locator('#connection.connection--connected').waitFor({ timeout: 20_000 });
  return page;
}

const leftOf = async (page: Page, sessionId: string) => Number((await row(page, sessionId, today).locator('.left').textContent())!.match(/\d+/)?.[0] ?? 0);

describe('the booking page: holds, expiry, the last place and the waitlist', () => {
  it('takes a hold with a countdown, and confirms it into a booking', async () => {
    const page = await open('alice');
    await row(page, nightSwim, today).waitFor();
    const before = await leftOf(page, nightSwim);
    // A mark on the element: a row rebuilt on update would lose it (and its bar would not animate).
    await row(page, nightSwim, today).evaluate((element) => element.setAttribute('data-mark', 'kept'));
    await row(page, nightSwim, today).getByRole('button', { name: /^Book Night Swim/ }).click();
    await page.locator('#countdown, #checkout-message').first().waitFor({ timeout: 10_000 });
    expect(await page.locator('#checkout').textContent()).toMatch(/Holding 1 place: Night Swim.*Held for [45]:\d\d/);
    await rowSays(page, nightSwim, today, placesLeft(before - 1));
    expect(await row(page, nightSwim, today).getAttribute('data-mark')).toBe('kept');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('confirm');
    await page.getByRole('button', { name: 'Confirm booking' }).click();
    await page.locator('#checkout-message').filter({ hasText: 'Booked! Night Swim' }).waitFor({ timeout: 10_000 });
    const booking = await database.models.Booking.findOne({ userId: 'alice', sessionId: new Types.ObjectId(nightSwim), date: today }).lean();
    expect(booking?.status).toBe('confirmed');
    await rowSays(page, nightSwim, today, placesLeft(before - 1));
    await page.context().close();
  }, 60_000);

  it('says so when a hold expires, and its place visibly comes back', async () => {
    const page = await open('carol');
    const before = await leftOf(page, nightSwim);
    await row(page, nightSwim, today).getByRole('button', { name: /^Book/ }).click();
    await page.locator('#countdown').waitFor();
    await rowSays(page, nightSwim, today, placesLeft(before - 1));
    // Time travel: the hold's expiry moves into the past; the hub's sweep expires it.
    const hold = await database.models.Hold.findOne({ userId: 'carol', status: 'active' });
    await database.models.Hold.updateOne({ _id: hold!._id }, { $set: { expiresAt: new Date(Date.now() - 1_000) } });
    await page.locator('#checkout-message').filter({ hasText: 'expired: its place went back' }).waitFor({ timeout: 10_000 });
    await rowSays(page, nightSwim, today, placesLeft(before));
    expect(await page.locator('#countdown').count()).toBe(0);
    await page.context().close();
  }, 60_000);

  it('lets one of two windows take the last place; the other sees it go, waits, and gets the offer live', async () => {
    const [dan, erin] = await Promise.all([open('dan'), open('erin')]);
    await Promise.all([rowSays(dan, lastPlace, today, '1 place left'), rowSays(erin, lastPlace, today, '1 place left')]);
    const book = (page: Page) => row(page, lastPlace, today).getByRole('button', { name: /^Book/ }).click();
    await Promise.all([book(dan), book(erin)]);
    const outcome = async (page: Page) => {
      await page.locator('#countdown, #checkout-message').first().waitFor({ timeout: 10_000 });
      return (await page.locator('#countdown').count()) > 0 ? 'holding' : await page.locator('#checkout-message').textContent();
    };
    const results = await Promise.all([outcome(dan), outcome(erin)]);
    expect(results.filter((r) => r === 'holding')).toHaveLength(1);
    expect(results).toContain('Someone else just took the last place.');
    const [winner, loser] = results[0] === 'holding' ? [dan, erin] : [erin, dan];
    await Promise.all([rowSays(winner, lastPlace, today, 'Full'), rowSays(loser, lastPlace, today, 'Full')]);

    await row(loser, lastPlace, today).getByRole('button', { name: /^Join the waitlist/ }).click();
    await loser.locator('.waiting').filter({ hasText: 'Waitlist #1: Last Place Workshop' }).waitFor({ timeout: 10_000 });
    await winner.getByRole('button', { name: 'Release' }).click();
    await loser.locator('.hold--offer #countdown').filter({ hasText: /Accept within \d:\d\d/ }).waitFor({ timeout: 10_000 });
    await loser.getByRole('button', { name: 'Accept' }).click();
    await loser.locator('#checkout-message').filter({ hasText: 'Booked! Last Place Workshop' }).waitFor({ timeout: 10_000 });
    await rowSays(winner, lastPlace, today, 'Full');
    expect(await database.models.Booking.countDocuments({ sessionId: new Types.ObjectId(lastPlace), date: today, status: 'confirmed' })).toBe(1);
    await Promise.all([dan.context().close(), erin.context().close()]);
  }, 90_000);

  it('books from the keyboard on a phone-sized screen, without sideways scrolling', async () => {
    const page = await open('frank', `/?date=${today}`, { width: 390, height: 844 });
    await row(page, nightSwim, today).waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth)).toBe(false);
    expect(await page.locator('.week').evaluate((element) => getComputedStyle(element).gridTemplateColumns.split(' ').length)).toBe(1);
    await row(page, nightSwim, today).getByRole('button', { name: /^Book/ }).focus();
    await page.keyboard.press('Enter');
    await page.locator('#countdown').waitFor({ timeout: 10_000 });
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('confirm');
    await page.keyboard.press('Enter');
    await page.locator('#checkout-message').filter({ hasText: 'Booked!' }).waitFor({ timeout: 10_000 });
    await page.context().close();
  }, 60_000);

  it('says plainly when ?date= is not a date, and serves a favicon', async () => {
    const page = await open(undefined, '/?date=2026-02-30');
    await page.locator('#notice').filter({ hasText: '“2026-02-30” is not a date on the calendar' }).waitFor();
    expect(await page.getByLabel('Week from').inputValue()).toBe(today);
    expect(await page.locator('.toast').count()).toBe(0);
    expect(await page.locator('#who').textContent()).toContain('Not signed in');
    const icon = await page.request.get(`${base}/favicon.ico`);
    expect(icon.status()).toBe(200);
    expect(icon.headers()['content-type']).toBe('image/svg+xml');
    await page.context().close();
  }, 30_000);

  it('says so when Simulate bookings fails, and the toast covers no row once scrolled to the end', async () => {
    const { page } = await signedInPage(browser, 'gina');
    // This hub runs on the test's database, so it has no simulate button: the page is told it has one that fails.
    await page.route('**/demo/config', (route) => route.fulfill({ json: { today, simulate: true, demo: false } }));
    await page.route('**/demo/simulate', (route) => route.fulfill({ status: 503, json: { error: 'UNAVAILABLE' } }));
    await page.goto(`${base}/?date=${today}`);
    await page.locator('#connection.connection--connected').waitFor({ timeout: 20_000 });
    await row(page, nightSwim, today).waitFor();
    await page.getByRole('button', { name: 'Simulate bookings' }).click();
    const error = page.getByRole('alert').filter({ hasText: 'Simulate bookings failed: the hub answered 503' });
    await error.waitFor({ timeout: 5_000 });
    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    const covered = await page.evaluate(() => {
      const toasts = [...document.querySelectorAll('.toast')].map((t) => t.getBoundingClientRect());
      return [...document.querySelectorAll('li.slot')].filter((li) => {
        const r = li.getBoundingClientRect();
        return toasts.some((t) => r.left < t.right && t.left < r.right && r.top < t.bottom && t.top < r.bottom);
      }).length;
    });
    expect(covered).toBe(0);
    await page.context().close();
  }, 60_000);

  it('logged no console errors in any window', () => {
    // The race's loser gets a 409 CONFLICT from holds.create (shown as a message); chromium logs every non-2xx fetch.
    // And the simulate test's 503 is the failure it asks for.
    const expected = (line: string) => /status of 409 \(Conflict\)/.test(line) || /^gina: .*status of 503/.test(line);
    expect(consoleErrors.filter((line) => !expected(line))).toEqual([]);
    expect(consoleErrors.length).toBeLessThanOrEqual(2);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { todayIn } from '@slotcast/shared';
import { connectDatabase, type Database } from '../../server/src/db/connect.ts';
import { seedDemoData } from '../../server/src/db/seed.ts';
import { testDatabaseUri } from '../support/database.ts';
import { consoleErrors, startPageHub, signedInPage } from './support.ts';

const today = todayIn('UTC');
let browser: Browser;
let database: Database;
let stopPageHub: (() => Promise<void>) | undefined;
let base: string;

beforeAll(async () => {
  const mongoUri = testDatabaseUri();
  database = await connectDatabase(mongoUri);
  await seedDemoData(database.models, { today });
  ({ base, browser, stop: stopPageHub } = await startPageHub(mongoUri));
}, 60_000);

afterAll(async () => {
  await stopPageHub?.();
  await database?.close();
});

async function dashboard(user: string | undefined, staff: boolean, viewport?: { width: number; height: number }): Promise<Page> {
  const { page } = await signedInPage(browser, user, { staff, viewport });
  await page.goto(`${base}/staff`);
  return page;
}

const number = async (page: Page, id: string) => Number(await page.locator(`#${id}`).textContent());
/** Waits for a refresh of the numbers after `since` (the page stamps each one). */
const refreshedAfter = (page: Page, since: number) =>
  page.waitForFunction((t) => Number(document.getElementById('dashboard')?.dataset.refreshed ?? 0) > t, since, { timeout: 15_000, polling: 100 });

describe('the staff dashboard in a real browser', () => {
  it('draws the trend, the heat map and utilization by session from seeded data, and follows a write live', async () => {
    const page = await dashboard('sam', true);
    await page.locator('#connection.connection--connected').waitFor({ timeout: 20_000 });
    await refreshedAfter(page, 0);
    expect(await page.locator('canvas').count()).toBe(3);
    for (const id of ['trend', 'heat', 'sessions']) {
      const box = await page.locator(`#${id}`).boundingBox();
      expect(box!.width * box!.height).toBeGreaterThan(10_000);
    }
    expect(await page.locator('#trend').getAttribute('aria-label')).toMatch(/^Utilization per day from .* trend (rising|falling|steady)/);
    expect(await page.locator('#sessions').getAttribute('aria-label')).toContain('Night Swim');
    expect(await page.locator('#heat').getAttribute('aria-label')).toMatch(/busiest start hours: \d+:00/);
    await page.locator('#direction').filter({ hasText: /^Trend: . (rising|falling|steady)/ }).waitFor();
    const booked = await number(page, 'stat-booked');
    expect(booked).toBeGreaterThan(0);

    // A write by another process: the numbers and the session chart follow it without a reload.
    const [swim] = await database.models.Session.find({ name: 'Night Swim' }).lean();
    const before = await page.locator('#sessions').getAttribute('aria-label');
    await database.models.Booking.create({ sessionId: swim!._id, date: today, userId: 'staff-test', quantity: 7, status: 'confirmed' });
    await page.waitForFunction((old) => document.getElementById('stat-booked')?.textContent !== String(old), booked, { timeout: 15_000, polling: 100 });
    expect(await number(page, 'stat-booked')).toBe(booked + 7);
    await page.waitForFunction((old) => document.getElementById('sessions')?.getAttribute('aria-label') !== old, before, { timeout: 15_000, polling: 100 });
  }, 90_000);

  it('shows a live alert when a session fills up', async () => {
    const page = await dashboard('sam', true);
    await page.locator('#connection.connection--connected').waitFor({ timeout: 20_000 });
    await refreshedAfter(page, 0);
    const [pilates] = await database.models.Session.find({ name: 'Pilates' }).lean();
    const active = await database.models.Booking.aggregate<{ n: number }>([
      { $match: { sessionId: pilates!._id, date: today, status: { $in: ['pending', 'confirmed'] } } },
      { $group: { _id: null, n: { $sum: '$quantity' } } },
    ]);
    const left = pilates!.capacity - (active[0]?.n ?? 0);
    expect(left).toBeGreaterThan(0);
    await database.models.Booking.create({ sessionId: pilates!._id, date: today, userId: 'staff-test', quantity: left, status: 'confirmed' });
    const alert = page.locator('#alerts li.alert--no_availability').filter({ hasText: 'Pilates' }).first();
    await alert.waitFor({ timeout: 15_000 });
    expect(await alert.locator('.badge').textContent()).toBe('Full');
    expect(await alert.textContent()).toContain(`0 of ${pilates!.capacity} left`);
  }, 60_000);

  it('asks an anonymous visitor, or a customer, to sign in as staff', async () => {
    const anonymous = await dashboard(undefined, false);
    await anonymous.locator('#signin').filter({ hasText: 'Staff sign-in needed' }).waitFor({ timeout: 10_000 });
    expect(await anonymous.locator('#signin-why').textContent()).toContain('No staff token');
    expect(await anonymous.locator('#dashboard').isHidden()).toBe(true);
    const customer = await dashboard('customer-1', false);
    await customer.locator('#signin-why').filter({ hasText: 'no staff role' }).waitFor({ timeout: 10_000 });
  }, 30_000);

  it('fits a phone-sized screen', async () => {
    const page = await dashboard('sam', true, { width: 390, height: 844 });
    await refreshedAfter(page, 0);
    expect(await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth)).toBe(false);
    const trend = await page.locator('#trend').boundingBox();
    expect(trend!.width).toBeLessThanOrEqual(390);
  }, 30_000);

  it('logged no console errors, other than the customer token refused with 403', () => {
    expect(consoleErrors.filter((line) => !/^customer-1: .*status of 403/.test(line))).toEqual([]);
  });
});

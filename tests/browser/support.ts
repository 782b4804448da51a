import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { Tokens } from '../../server/src/auth/tokens.ts';
import { TEST_JWT_SECRET } from '../support/hub.ts';
import { spawnHub, type HubProcess } from '../support/hub-process.ts';
import { freePort } from '../../server/src/devservices/redis-server.ts';

/** Debian's chromium (apt-get install chromium); never a downloaded browser. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const launchChromium = (): Promise<Browser> =>
  chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
  });

/** Console errors and page errors of every page made through `signedInPage`, for a closing check. */
export const consoleErrors: string[] = [];

/**
 * A browser window (its own context, so its own sessionStorage) signed in as `user`: the token
 * is put where the page looks for an integrator's token, as a real sign-in would.
 */
export async function signedInPage(browser: Browser, user: string | undefined, options: { staff?: boolean; viewport?: { width: number; height: number } } = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: options.viewport ?? { width: 1400, height: 1000 } });
  if (user) {
    const token = await new Tokens(TEST_JWT_SECRET).sign({ sub: user, roles: options.staff ? ['staff'] : [] });
    await context.addInitScript((value) => sessionStorage.setItem('slotcast-token', value), token);
  }
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(`${user ?? 'anonymous'}: ${message.text()}`);
  });
  page.on('pageerror', (error) => consoleErrors.push(`${user ?? 'anonymous'}: ${error.message}`));
  return { context, page };
}

/** The row of a session on a date, in a customer page. */
export const row = (page: Page, sessionId: string, date: string) => page.locator(`li.slot[data-session-id="${sessionId}"][data-date="${date}"]`);

/** Waits until a row's "places left" text is `text`. */
export const rowSays = (page: Page, sessionId: string, date: string, text: string, timeout = 10_000) =>
  page.waitForFunction(
    ({ id, day, expected }) => document.querySelector(`li.slot[data-session-id="${id}"][data-date="${day}"] .left`)?.textContent === expected,
    { id: sessionId, day: date, expected: text },
    { timeout },
  );

export const placesLeft = (n: number) => (n === 0 ? 'Full' : `${n} ${n === 1 ? 'place' : 'places'} left`);

/** A hub process on a free port over `mongoUri`, and a browser to drive it; `stop` ends both. */
export async function startPageHub(mongoUri: string): Promise<{ hub: HubProcess; base: string; browser: Browser; stop: () => Promise<void> }> {
  const port = await freePort();
  const hub = spawnHub({ PORT: String(port), HOST: '127.0.0.1', MONGODB_URI: mongoUri, JWT_SECRET: TEST_JWT_SECRET, COALESCE_MS: '20' });
  await hub.port();
  const browser = await launchChromium();
  return {
    hub,
    base: `http://127.0.0.1:${port}`,
    browser,
    async stop() {
      await browser.close();
      await hub.stop();
    },
  };
}

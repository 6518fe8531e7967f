/**
 * The page in a real browser (Debian's Chromium, driven by playwright-core):
 * its script runs under the content security policy, changes the session
 * through the JSON API, and a reload shows what the session kept.
 */
import { existsSync } from 'fs';
import { Browser, chromium } from 'playwright-core';
import { RunningApp, startApp } from './helpers';

const CHROMIUM = '/usr/bin/chromium';
if (!existsSync(CHROMIUM)) {
  throw new Error(`${CHROMIUM} is missing: install Debian's chromium (bash .ci/run does)`);
}

let browser: Browser;
beforeAll(async () => {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    // A fresh profile per launch (playwright's own); no network beyond loopback here, so keep Chromium from calling home.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
});
afterAll(async () => {
  await browser?.close();
});

describe.each([
  ['memory', {}],
  ['cookie', {}],
  ['redis', { SESSION_REDIS_HOST: '127.0.0.1', SESSION_REDIS_PORT: '6379' }],
])('the page with %s sessions', (strategy, env) => {
  let running: RunningApp;
  beforeAll(async () => {
    running = await startApp({ SESSION_STRATEGY: strategy, SESSION_APP_COLOR: 'green', SESSION_APP_VERSION: 'v3', ...env });
  });
  afterAll(() => running.close());

  test('counts, fills the cart, logs in and out, and a reload shows the same session', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    page.on('pageerror', (e) => problems.push(e.message));
    try {
      await page.goto(running.url);
      expect(await page.textContent('#strategy')).toBe(strategy);
      expect(await page.textContent('#color')).toBe('green');
      expect(await page.textContent('#visits')).toBe('1');

      await page.click('#increment');
      await page.waitForSelector('#counter:text-is("1")');
      await page.click('#increment');
      await page.waitForSelector('#counter:text-is("2")');
      await page.fill('#item-input', '<b>green tea</b>');
      await page.click('#add-item');
      await page.waitForSelector('#cart li');
      await page.fill('#item-input', 'scones');
      await page.click('#add-item');
      await page.locator('#cart li').nth(1).waitFor();
      await page.click('#cart li[data-index="1"] button.remove');
      await page.locator('#cart li').nth(1).waitFor({ state: 'detached' });
      await page.fill('#user-input', 'ann');
      await page.click('#login');
      await page.waitForSelector('#user:text-is("ann")');

      await page.reload();
      expect(await page.textContent('#visits')).toBe('2');
      expect(await page.textContent('#counter')).toBe('2');
      expect(await page.textContent('#user')).toBe('ann');
      // The item is text, never markup.
      expect(await page.$$eval('#cart li span', (spans) => spans.map((s) => s.textContent))).toEqual(['<b>green tea</b>']);
      expect(await page.$('#cart b')).toBeNull();

      await page.click('#logout');
      await page.waitForSelector('#user:text-is("not logged in")');
      await page.reload();
      expect(await page.textContent('#user')).toBe('not logged in');
      expect(await page.textContent('#counter')).toBe('2');
      const cookies = await context.cookies();
      expect(cookies.map((c) => [c.name, c.httpOnly, c.sameSite])).toEqual([['sid', true, 'Lax']]);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

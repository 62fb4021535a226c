import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer';
import { chromiumArgs, resolveBrowserExecutable } from '../../auditor/browser/executable.js';

export interface TestBrowser {
  browser: Browser;
  close: () => Promise<void>;
}

/** Real Chromium (Debian's), headless, with a throw-away profile. */
export async function launchTestBrowser(): Promise<TestBrowser> {
  const executablePath = await resolveBrowserExecutable();
  if (!executablePath) throw new Error('no Chromium found: install Debian chromium or set PUPPETEER_EXECUTABLE_PATH');
  const userDataDir = mkdtempSync(join(tmpdir(), 'verity-dash-chrome-'));
  // Our own pages in a test browser run by root (tests and CI): not the auditor's sandboxed renderer.
  const browser = await puppeteer.launch({ executablePath, headless: true, args: [...chromiumArgs, '--no-sandbox'], userDataDir });
  return {
    browser,
    close: async () => {
      await browser.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Every URL the page asked for and every CSP violation it reported, on every page visited. */
export async function watchPage(page: Page): Promise<{ requests: string[]; violations: () => Promise<string[]> }> {
  const requests: string[] = [];
  const logged: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  // Chromium reports CSP refusals as browser log entries (not console calls): read them over CDP.
  const cdp = await page.createCDPSession();
  cdp.on('Log.entryAdded', (e) => {
    if (/Content Security Policy/i.test(e.entry.text)) logged.push(e.entry.text);
  });
  await cdp.send('Log.enable');
  await page.evaluateOnNewDocument(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      const seen = JSON.parse(sessionStorage.getItem('__csp') ?? '[]') as string[];
      seen.push(`${e.violatedDirective} ${e.blockedURI}`);
      sessionStorage.setItem('__csp', JSON.stringify(seen));
    });
  });
  return {
    requests,
    violations: async () => [...logged, ...(await page.evaluate(() => JSON.parse(sessionStorage.getItem('__csp') ?? '[]') as string[]))],
  };
}

export async function logIn(page: Page, baseUrl: string, token: string): Promise<void> {
  await page.goto(`${baseUrl}/`, { waitUntil: 'domcontentloaded' });
  await page.type('#token', token);
  await Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded' }), page.click('form[action="/login"] button[type="submit"]')]);
}

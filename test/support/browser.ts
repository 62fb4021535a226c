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
  const browser = await puppeteer.launch({ executablePath, headless: true, args: chromiumArgs, userDataDir });
  return {
    browser,
    close: async () => {
      await browser.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Every URL the page asked for and every CSP violation it reported, from the first byte on. */
export async function watchPage(page: Page): Promise<{ requests: string[]; violations: () => Promise<string[]> }> {
  const requests: string[] = [];
  const logged: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  // Chromium logs every CSP refusal on the console: this catches them on every page visited.
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) logged.push(m.text());
  });
  await page.evaluateOnNewDocument(() => {
    const w = window as unknown as { __csp: string[] };
    w.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => w.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  return {
    requests,
    violations: async () => [...logged, ...(await page.evaluate(() => (window as unknown as { __csp: string[] }).__csp ?? []))],
  };
}

export async function logIn(page: Page, baseUrl: string, token: string): Promise<void> {
  await page.goto(`${baseUrl}/`, { waitUntil: 'domcontentloaded' });
  await page.type('#token', token);
  await Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded' }), page.click('form[action="/login"] button[type="submit"]')]);
}

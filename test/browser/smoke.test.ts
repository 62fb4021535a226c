import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer from 'puppeteer';
import { describe, expect, it } from 'vitest';
import { chromiumArgs, resolveBrowserExecutable } from '../../auditor/browser/executable.js';

describe('resolved Chromium', () => {
  it('launches and renders a loopback page', async () => {
    const executablePath = await resolveBrowserExecutable();
    expect(executablePath, 'no browser found: install Debian chromium').not.toBeNull();
    const server = createServer((_req, res) => res.end('<title>hello</title><p id="x">rendered by chromium</p>'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const userDataDir = mkdtempSync(join(tmpdir(), 'verity-chrome-'));
    // Our own page in a test browser run by root: not the auditor's sandboxed renderer.
    const browser = await puppeteer.launch({ executablePath: executablePath ?? undefined, headless: true, args: [...chromiumArgs, '--no-sandbox'], userDataDir });
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${port}/`);
      expect(await page.$eval('#x', (el) => el.textContent)).toBe('rendered by chromium');
    } finally {
      await browser.close();
      server.close();
      rmSync(userDataDir, { recursive: true, force: true });
    }
  });

  it('reports no browser when PUPPETEER_EXECUTABLE_PATH points nowhere', async () => {
    expect(await resolveBrowserExecutable({ PUPPETEER_EXECUTABLE_PATH: '/nonexistent/chrome' })).toBeNull();
  });
});

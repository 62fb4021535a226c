import type { Page } from 'puppeteer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminApiPlugin } from '../../../balancer/control/admin-api.js';
import { dashboardPlugin } from '../../../dashboards/plugin.js';
import { launchTestBrowser, logIn, watchPage, type TestBrowser } from '../../support/browser.js';
import { startControlPlane, type ControlPlane } from '../../support/control-harness.js';
import { useTestDatabase } from '../../support/db.js';
import { seedFleet, type Fleet } from '../../support/seed-fleet.js';

const ADMIN_TOKEN = 'browser-admin-token-0123456789abcdef';
const HOSTILE = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">';
const db = useTestDatabase({ truncate: false });
let cp: ControlPlane;
let tb: TestBrowser;
let fleet: Fleet;

beforeAll(async () => {
  fleet = await seedFleet(db.pool, Date.now(), { hostileFragment: HOSTILE, rogueName: 'rogue-<script>window.__pwned=3</script>' });
  cp = await startControlPlane({ pool: db.pool, plugins: [adminApiPlugin, dashboardPlugin], adminToken: ADMIN_TOKEN });
  tb = await launchTestBrowser();
});
afterAll(async () => {
  await tb?.close();
  await cp?.close();
});

async function textOf(page: Page, selector: string): Promise<string> {
  return page.$eval(selector, (el) => el.textContent ?? '');
}

async function imagesLoaded(page: Page): Promise<Record<string, number>> {
  await page.waitForFunction(() => Array.from(document.querySelectorAll('img[data-kind]')).every((i) => (i as HTMLImageElement).complete), { timeout: 30_000 });
  return page.$$eval('img[data-kind]', (imgs) => Object.fromEntries(imgs.map((i) => [i.getAttribute('data-kind') ?? '', (i as HTMLImageElement).naturalWidth])));
}

async function act(page: Page, action: 'quarantine' | 'reinstate', reason: string): Promise<void> {
  await page.type('#reason', reason);
  await Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded' }), page.click(`button[name="action"][value="${action}"]`)]);
}

describe('dashboard in real Chromium', () => {
  it('logs in, walks every page, follows a tampered audit, acts on a node, and stays on the control plane', async () => {
    const ctx = await tb.browser.createBrowserContext();
    const page = await ctx.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    const watch = await watchPage(page);

    await logIn(page, cp.url, ADMIN_TOKEN);
    expect(await textOf(page, 'h1')).toBe('Overview');
    await page.waitForSelector('#traffic-chart .uplot', { timeout: 30_000 });
    expect(Number(await textOf(page, '[data-testid="rps"]'))).toBeGreaterThan(0);
    expect(await page.$eval('time[data-rel]', (t) => t.textContent ?? '')).toMatch(/ago|now/);
    // Live: htmx refreshes the figures by itself.
    await page.waitForResponse((r) => r.url() === `${cp.url}/fragments/overview` && r.status() === 200, { timeout: 30_000 });

    await page.goto(`${cp.url}/nodes`, { waitUntil: 'domcontentloaded' });
    expect(await page.$$eval('table.nodes tbody tr', (r) => r.length)).toBe(11);
    await Promise.all([page.waitForNavigation(), page.click('th a[href*="sort=traffic"]')]);
    const shares = await page.$$eval('table.nodes tbody tr td:nth-child(6)', (tds) => tds.map((t) => parseFloat(t.textContent ?? '') || 0));
    expect(shares).toEqual([...shares].sort((a, b) => b - a));
    await page.select('select[name="status"]', 'quarantined');
    await Promise.all([page.waitForNavigation(), page.click('form.filters button')]);
    expect(await page.$$eval('table.nodes tbody tr', (r) => r.length)).toBe(1);
    expect(await textOf(page, 'table.nodes .node-name')).toBe('rogue-<script>window.__pwned=3</script>');

    await page.goto(`${cp.url}/map`, { waitUntil: 'domcontentloaded' });
    expect(await page.$$eval('svg.world circle.marker', (c) => c.length)).toBe(11);
    expect(await page.$$eval('svg.world path.country', (c) => c.length)).toBeGreaterThan(100);
    for (const path of ['/sites', '/admin-log', '/audits']) {
      await page.goto(`${cp.url}${path}`, { waitUntil: 'domcontentloaded' });
      expect(page.url()).toBe(`${cp.url}${path}`);
    }

    // Overview → latest tamper finding → report: both screenshots and the diff image render.
    await page.goto(`${cp.url}/`, { waitUntil: 'domcontentloaded' });
    await Promise.all([page.waitForNavigation(), page.click(`a[href="/audits/${fleet.tamperedAuditId}"]`)]);
    expect(await textOf(page, 'h1')).toContain('tampered');
    const widths = await imagesLoaded(page);
    expect(widths).toEqual({ origin_screenshot: 640, node_screenshot: 640, diff_image: 640 });
    expect(await page.$$eval('pre.code ins', (e) => e.map((x) => x.textContent ?? '').join(' '))).toContain('<script>window.__pwned=1</script>');

    // The rogue's script, from the name and the fragments, never ran.
    await page.goto(`${cp.url}/nodes/${fleet.rogueId}`, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('#trust-chart .uplot', { timeout: 30_000 });
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();

    await page.goto(`${cp.url}/nodes/${fleet.healthyId}`, { waitUntil: 'domcontentloaded' });
    await act(page, 'quarantine', 'serving stale pricing, under review');
    expect(await textOf(page, '.flash')).toContain('quarantined');
    expect(await textOf(page, 'h1 .badge')).toBe('quarantined');
    expect(await textOf(page, 'table.events tbody tr:first-child')).toContain('serving stale pricing, under review');
    await act(page, 'reinstate', 'owner explained: cache bug fixed');
    expect(await textOf(page, 'h1 .badge')).toBe('active');
    const events = await page.$$eval('table.events tbody tr', (rows) => rows.slice(0, 2).map((r) => r.textContent ?? ''));
    expect(events[0]).toContain('admin_reinstate');
    expect(events[1]).toContain('admin_quarantine');

    expect(watch.requests.length).toBeGreaterThan(20);
    expect(watch.requests.filter((u) => !u.startsWith(`${cp.url}/`))).toEqual([]);
    expect(await watch.violations()).toEqual([]);
    await ctx.close();
  });

  it('shows a tampered fragment containing <script> as text, not run', async () => {
    const ctx = await tb.browser.createBrowserContext();
    const page = await ctx.newPage();
    const watch = await watchPage(page);
    await logIn(page, cp.url, ADMIN_TOKEN);
    await page.goto(`${cp.url}/audits/${fleet.tamperedAuditId}`, { waitUntil: 'load' });
    const nodeSide = await page.$$eval('.fragment .side-by-side > div:nth-child(2) pre', (p) => p.map((x) => x.textContent ?? ''));
    expect(nodeSide.join('\n')).toContain(HOSTILE);
    expect(await page.$$eval('main script, main img[src="x"]', (e) => e.length)).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(watch.requests.filter((u) => !u.startsWith(`${cp.url}/`))).toEqual([]);
    await ctx.close();
  });

  it('has a CSP that refuses inline script, and the watcher sees the refusal', async () => {
    const ctx = await tb.browser.createBrowserContext();
    const page = await ctx.newPage();
    const watch = await watchPage(page);
    await logIn(page, cp.url, ADMIN_TOKEN);
    await page.goto(`${cp.url}/nodes`, { waitUntil: 'load' });
    expect(await watch.violations()).toEqual([]);
    await page.evaluate(() => {
      const s = document.createElement('script');
      s.textContent = 'window.__ran = 1';
      document.body.append(s);
    });
    expect(await page.evaluate(() => (window as unknown as { __ran?: number }).__ran)).toBeUndefined();
    await page.waitForFunction(() => (sessionStorage.getItem('__csp') ?? '').includes('script-src'), { timeout: 10_000 });
    expect((await watch.violations()).join('\n')).toContain('script-src');
    await ctx.close();
  });

  it('fits a phone screen', async () => {
    const ctx = await tb.browser.createBrowserContext();
    const page = await ctx.newPage();
    await page.setViewport({ width: 390, height: 844, isMobile: true, hasTouch: true });
    await logIn(page, cp.url, ADMIN_TOKEN);
    for (const path of ['/', '/nodes', `/nodes/${fleet.rogueId}`, `/audits/${fleet.tamperedAuditId}`, '/map', '/sites']) {
      await page.goto(`${cp.url}${path}`, { waitUntil: 'domcontentloaded' });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, path).toBeLessThanOrEqual(1);
    }
    await ctx.close();
  });
});

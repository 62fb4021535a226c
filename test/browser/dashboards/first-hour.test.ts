import type { BrowserContext, Page } from 'puppeteer';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { adminApiPlugin } from '../../../balancer/control/admin-api.js';
import { dashboardPlugin } from '../../../dashboards/plugin.js';
import { launchTestBrowser, logIn, type TestBrowser } from '../../support/browser.js';
import { startControlPlane, type ControlPlane } from '../../support/control-harness.js';
import { truncateAll, useTestDatabase } from '../../support/db.js';
import { seedAudit, seedNode, seedSite, seedTraffic, seedTrustEvents } from '../../support/seed.js';

// The dashboard's rough edges a new user met in the first hour, each seen in real Chromium.

const ADMIN_TOKEN = 'first-hour-admin-token-0123456789';
const MIN = 60_000;
// Emptied here, before each log-in (the session is a row too), not by a hook racing with it.
const db = useTestDatabase({ truncate: false });
let cp: ControlPlane;
let tb: TestBrowser;
let page: Page;

beforeAll(async () => {
  cp = await startControlPlane({ pool: db.pool, plugins: [adminApiPlugin, dashboardPlugin], adminToken: ADMIN_TOKEN });
  tb = await launchTestBrowser();
});
let context: BrowserContext | undefined;
beforeEach(async () => {
  await truncateAll(db.pool);
  // A browser profile of its own per test: no cookie or live page of an earlier test around.
  context = await tb.browser.createBrowserContext();
  page = await context.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  await logIn(page, cp.url, ADMIN_TOKEN);
  expect(await page.$eval('h1', (h) => h.textContent)).toBe('Overview');
});
afterEach(async () => {
  await context?.close();
});
afterAll(async () => {
  await tb?.close();
  await cp?.close();
});

async function open(path: string): Promise<void> {
  await page.goto(`${cp.url}${path}`, { waitUntil: 'networkidle0' });
}

/** Node name → the text of one column of the nodes table. */
async function column(index: number): Promise<Record<string, string>> {
  const pairs = await page.$$eval('table.nodes tbody tr', (rows, i) => rows.map((r) => [r.querySelector('.node-name')?.textContent ?? '', r.children[i]?.textContent ?? '']), index);
  return Object.fromEntries(pairs);
}

const text = (selector: string): Promise<string> => page.$eval(selector, (el) => el.textContent ?? '');

/** Pixels of the chart's canvas within a small distance of an RGB colour. */
function pixelsOf(selector: string, rgb: [number, number, number]): Promise<number> {
  return page.$eval(`${selector} canvas`, (c, [r, g, b]) => {
    const canvas = c as HTMLCanvasElement;
    const data = canvas.getContext('2d')?.getImageData(0, 0, canvas.width, canvas.height).data ?? new Uint8ClampedArray();
    let n = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (Math.abs((data[i] ?? 0) - r) < 24 && Math.abs((data[i + 1] ?? 0) - g) < 24 && Math.abs((data[i + 2] ?? 0) - b) < 24 && (data[i + 3] ?? 0) > 200) n++;
    }
    return n;
  }, rgb);
}

describe('dashboard charts', () => {
  it('show an empty state, not an axis of made-up years, with no data or a single point', async () => {
    const site = await seedSite(db.pool, { host: 'shop.example' });
    const lonely = await seedNode(db.pool, { name: 'lonely', siteIds: [site.id] });
    const busy = await seedNode(db.pool, { name: 'busy', siteIds: [site.id] });
    // Both minutes counted from one instant, so they are always two different minutes.
    const base = Date.now();
    await seedTraffic(db.pool, busy, { now: new Date(base), minutes: 1, perMinute: 120, p50Ms: 20, p99Ms: 90 });

    await open('/');
    expect(await page.$$eval('#traffic-chart .uplot', (e) => e.length)).toBe(0);
    expect(await text('#traffic-chart')).toMatch(/No traffic recorded yet/);

    await open(`/nodes/${lonely}`);
    for (const id of ['#trust-chart', '#node-traffic-chart', '#node-latency-chart']) {
      expect(await page.$$eval(`${id} .uplot`, (e) => e.length), id).toBe(0);
      expect(await text(id), id).toMatch(/No trust history yet|Not enough/);
    }
    expect(await page.$eval('body', (b) => b.textContent ?? '')).not.toMatch(/202[7-9]|2030/);

    // With a second minute the overview's live chart appears by itself at its next refresh (10 s).
    await open('/');
    await seedTraffic(db.pool, busy, { now: new Date(base - MIN), minutes: 1, perMinute: 60, p50Ms: 20, p99Ms: 90 });
    await page.waitForSelector('#traffic-chart .uplot', { timeout: 25_000 });
    expect(await page.$$eval('#traffic-chart .chart-empty', (e) => e.length)).toBe(0);
  });

  it('draws integrity over availability, so an honest node with equal scores shows both lines', async () => {
    const node = await seedNode(db.pool, { name: 'honest', integrity: 0.75, availability: 0.75 });
    const now = Date.now();
    await seedTrustEvents(db.pool, node, [0, 1, 2, 3].map((i) => ({
      at: new Date(now - (4 - i) * 30 * MIN), kind: i === 0 ? 'registered' : 'audit_pass', integrityAfter: 0.75, availabilityAfter: 0.75, reason: 'steady',
    })));
    await open(`/nodes/${node}`);
    await page.waitForSelector('#trust-chart .uplot canvas');
    if (process.env.VERITY_SHOT) await page.screenshot({ path: process.env.VERITY_SHOT });
    // #2f7d4f integrity, #3864b4 availability (dashboards/assets/app.js).
    expect(await pixelsOf('#trust-chart', [0x2f, 0x7d, 0x4f])).toBeGreaterThan(300);
    expect(await pixelsOf('#trust-chart', [0x38, 0x64, 0xb4])).toBeGreaterThan(50);
  });
});

describe('dashboard node figures', () => {
  it('says "country unknown" for a node without a country, never "??"', async () => {
    await seedNode(db.pool, { name: 'at-sea', country: null, lat: 0, lon: -30 });
    await seedNode(db.pool, { name: 'paris', country: 'FR', lat: 48.86, lon: 2.35 });
    await open('/nodes');
    expect(await column(4)).toEqual({ 'at-sea': 'country unknown · 0.0°N 30.0°W', paris: 'FR · 48.9°N 2.4°E' });
    await open('/map');
    expect(await page.$eval('body', (b) => b.textContent ?? '')).not.toContain('??');
  });

  it("counts a quarantined node's audits apart from visitor traffic, and says what the rate counts", async () => {
    const site = await seedSite(db.pool, { host: 'shop.example' });
    const honest = await seedNode(db.pool, { name: 'honest', siteIds: [site.id] });
    const quarantined = await seedNode(db.pool, { name: 'quarantined', status: 'quarantined', siteIds: [site.id] });
    const now = new Date();
    await seedTraffic(db.pool, honest, { now, minutes: 20, perMinute: 120, p50Ms: 20, p99Ms: 90 });
    await seedTraffic(db.pool, honest, { now, minutes: 20, perMinute: 6, p50Ms: 400, p99Ms: 900, audit: true });
    await seedTraffic(db.pool, quarantined, { now, minutes: 20, perMinute: 12, p50Ms: 400, p99Ms: 900, audit: true });

    await open('/nodes');
    expect(await column(5)).toEqual({ honest: '100.0%', quarantined: '0.0%' });
    await open(`/nodes/${quarantined}`);
    expect(await text('[data-testid="hour-audits"]')).toMatch(/^2\d\d requests from the auditor \(not visitors: not in the share\)$/);

    await open('/');
    // The last full minute of visitor traffic only: audits (6 + 12 a minute) are not in it.
    const { rows } = await db.pool.query<{ requests: number }>('SELECT requests FROM node_traffic WHERE node_id = $1 AND NOT audit ORDER BY minute DESC LIMIT 1', [honest]);
    expect(Number(await text('[data-testid="rps"]'))).toBeCloseTo((rows[0]?.requests ?? 0) / 60, 1);
    expect(await text('[data-testid="rps-what"]')).toBe('visitor requests / second sent to nodes, over the last full minute (pages the origin serves and audits are not counted)');
  });
});

describe('dashboard audits', () => {
  it('sorts the audits table by the time it shows and keeps host names whole', async () => {
    const site = await seedSite(db.pool, { host: 'shop-with-a-rather-long-host-name.example' });
    const node = await seedNode(db.pool, { name: 'paris-fibre-01', siteIds: [site.id] });
    const now = Date.now();
    const ids: Record<string, string> = {};
    for (const [label, minutesAgo] of [['oldest', 50], ['newest', 10], ['middle', 30]] as const) {
      ids[label] = await seedAudit(db.pool, { nodeId: node, siteId: site.id, url: `http://shop-with-a-rather-long-host-name.example/${label}/page`, startedAt: new Date(now - minutesAgo * MIN) });
    }
    // Planned (created) in the opposite order of when they started.
    await db.pool.query('UPDATE audits SET created_at = now() + (now() - started_at)');
    await page.setViewport({ width: 420, height: 900 });
    await open('/audits');
    expect(await page.$$eval('table.audits thead th', (th) => th[0]?.textContent)).toBe('Started');
    const order = await page.$$eval('table.audits tbody tr a[href^="/audits/"]', (as) => as.map((a) => a.getAttribute('href')));
    expect(order).toEqual([`/audits/${ids.newest}`, `/audits/${ids.middle}`, `/audits/${ids.oldest}`]);
    const hostLines = await page.$$eval('table.audits .host', (hs) => hs.map((h) => h.getClientRects().length));
    expect(hostLines).toEqual([1, 1, 1]);
  });

  it('does not blame a missing Chromium for a passed audit without screenshots', async () => {
    const site = await seedSite(db.pool, { host: 'shop.example' });
    const node = await seedNode(db.pool, { siteIds: [site.id] });
    const rendered = await seedAudit(db.pool, { nodeId: node, siteId: site.id });
    const noBrowser = await seedAudit(db.pool, { nodeId: node, siteId: site.id });
    await db.pool.query('UPDATE audits SET summary = $2 WHERE id = $1', [rendered, { rendered: 'done', findings: 0 }]);
    await db.pool.query('UPDATE audits SET summary = $2 WHERE id = $1', [noBrowser, { rendered: 'skipped', findings: 0 }]);
    await open(`/audits/${rendered}`);
    const passed = await page.$eval('body', (b) => b.textContent ?? '');
    expect(passed).toContain('Both copies were rendered in Chromium and compared; screenshots are kept only for audits that find a difference.');
    expect(passed).not.toMatch(/need Chromium|had no Chromium/);
    await open(`/audits/${noBrowser}`);
    expect(await page.$eval('body', (b) => b.textContent ?? '')).toContain('the auditor that ran this audit had no Chromium');
  });
});

import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminApiPlugin } from '../../../balancer/control/admin-api.js';
import { dashboardPlugin } from '../../../dashboards/plugin.js';
import { launchTestBrowser, logIn, type TestBrowser } from '../../support/browser.js';
import { startControlPlane, type ControlPlane } from '../../support/control-harness.js';
import { useTestDatabase } from '../../support/db.js';
import { seedFleet, type Fleet } from '../../support/seed-fleet.js';

// README screenshots from realistic seeded data in real Chromium. They are written to
// docs/screenshots/ only with VERITY_WRITE_SCREENSHOTS=1 (so `npm test` leaves the tree clean);
// otherwise to a temporary directory, and checked either way.

const ADMIN_TOKEN = 'screenshot-admin-token-0123456789';
const db = useTestDatabase({ truncate: false });
const write = process.env.VERITY_WRITE_SCREENSHOTS === '1';
const outDir = write ? join(process.cwd(), 'docs', 'screenshots') : mkdtempSync(join(tmpdir(), 'verity-shots-'));
let cp: ControlPlane;
let tb: TestBrowser;
let fleet: Fleet;

beforeAll(async () => {
  fleet = await seedFleet(db.pool, Date.now());
  cp = await startControlPlane({ pool: db.pool, plugins: [adminApiPlugin, dashboardPlugin], adminToken: ADMIN_TOKEN });
  tb = await launchTestBrowser();
  mkdirSync(outDir, { recursive: true });
});
afterAll(async () => {
  await tb?.close();
  await cp?.close();
  if (!write) rmSync(outDir, { recursive: true, force: true });
});

describe('README screenshots', () => {
  it('captures the overview, a node and an audit report at 1280 px', async () => {
    const ctx = await tb.browser.createBrowserContext();
    const page = await ctx.newPage();
    await page.setViewport({ width: 1280, height: 900, deviceScaleFactor: 1 });
    await page.emulateTimezone('UTC');
    await logIn(page, cp.url, ADMIN_TOKEN);
    const shots: [string, string, string][] = [
      ['overview.png', '/', '#traffic-chart .uplot'],
      ['node.png', `/nodes/${fleet.rogueId}`, '#trust-chart .uplot'],
      ['audit-report.png', `/audits/${fleet.tamperedAuditId}`, 'img[data-kind="diff_image"]'],
      ['nodes.png', '/nodes?sort=traffic&dir=desc', 'table.nodes'],
      ['map.png', '/map', 'svg.world'],
    ];
    for (const [file, path, ready] of shots) {
      await page.goto(`${cp.url}${path}`, { waitUntil: 'networkidle2' });
      await page.waitForSelector(ready, { timeout: 30_000 });
      const target = join(outDir, file);
      await page.screenshot({ path: target as `${string}.png`, fullPage: true });
      const png = PNG.sync.read(readFileSync(target));
      expect(png.width, file).toBe(1280);
      expect(png.height, file).toBeGreaterThan(500);
    }
    await page.setViewport({ width: 390, height: 844, deviceScaleFactor: 1, isMobile: true, hasTouch: true });
    for (const [file, path] of [['phone-overview.png', '/'], ['phone-audit-report.png', `/audits/${fleet.tamperedAuditId}`]]) {
      await page.goto(`${cp.url}${path}`, { waitUntil: 'networkidle2' });
      await page.screenshot({ path: join(outDir, file ?? 'x.png') as `${string}.png`, fullPage: true });
    }
    await ctx.close();
  });
});

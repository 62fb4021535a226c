import type { Page } from 'puppeteer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminApiPlugin } from '../../../balancer/control/admin-api.js';
import { dashboardPlugin } from '../../../dashboards/plugin.js';
import { hashPassword } from '../../../common/auth/password.js';
import { createUser } from '../../../common/db/queries/users.js';
import { insertTestNode, insertTestSite } from '../../support/balancer-harness.js';
import { launchTestBrowser, watchPage, type TestBrowser } from '../../support/browser.js';
import { startControlPlane, type ControlPlane } from '../../support/control-harness.js';
import { useTestDatabase } from '../../support/db.js';
import { fixed, startOriginServer, type TestOrigin } from '../../support/origin-server.js';

// A site owner in real Chromium against a real control plane and PostgreSQL: logs in with their
// password, sees only their sites, adds one by proving they run its origin (an HTTP file on a
// loopback origin), makes a join token, quarantines a node for their site, is refused another
// owner's site in the dashboard and the API, and the admin log names them.

const ADMIN_TOKEN = 'owners-browser-admin-token-0123456789';
const db = useTestDatabase({ truncate: false });
let cp: ControlPlane;
let tb: TestBrowser;
let origin: TestOrigin;
let node: string;

beforeAll(async () => {
  origin = await startOriginServer();
  const shop = await insertTestSite(db.pool, { host: 'shop.alice.test', origin: origin.url });
  const blog = await insertTestSite(db.pool, { host: 'blog.bob.test', origin: origin.url });
  node = await insertTestNode(db.pool, { url: 'http://127.0.0.1:9', siteIds: [shop, blog], name: 'attic-box' });
  await createUser(db.pool, { email: 'alice@example.org', role: 'owner', siteIds: [shop], createdBy: 'test', passwordHash: await hashPassword('correct horse battery') });
  await createUser(db.pool, { email: 'bob@example.org', role: 'owner', siteIds: [blog], createdBy: 'test' });
  cp = await startControlPlane({ pool: db.pool, plugins: [adminApiPlugin, dashboardPlugin], adminToken: ADMIN_TOKEN, allowPrivateOwnerUrls: true });
  tb = await launchTestBrowser();
});
afterAll(async () => {
  await tb?.close();
  await cp?.close();
  await origin?.close();
});

async function submit(page: Page, selector: string): Promise<number> {
  const [res] = await Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded' }), page.click(selector)]);
  return res?.status() ?? 0;
}

const texts = (page: Page, selector: string) => page.$$eval(selector, (els) => els.map((e) => (e.textContent ?? '').trim()));

describe('a site owner in the dashboard', () => {
  it('serves themselves, and only themselves', async () => {
    const ctx = await tb.browser.createBrowserContext();
    const page = await ctx.newPage();
    const watch = await watchPage(page);
    await page.goto(`${cp.url}/login`, { waitUntil: 'domcontentloaded' });
    await page.type('#email', 'alice@example.org');
    await page.type('#password', 'correct horse battery');
    await submit(page, 'form.account-login button[type="submit"]');
    // Their start page is their sites; the fleet-wide pages are not in their menu.
    expect(new URL(page.url()).pathname).toBe('/sites');
    expect(await texts(page, 'table.sites td:first-child')).toEqual(['shop.alice.test']);
    expect(await texts(page, 'header nav a')).toEqual(['Audits', 'Sites', 'Notifications', 'Admin log', 'Account']);

    // Add a site: the page names the file and its content; the origin serves them; the check passes.
    await page.type('form.add-site input[name="host"]', 'new.alice.test');
    await page.type('form.add-site input[name="origin"]', origin.url);
    expect(await submit(page, 'form.add-site button[type="submit"]')).toBe(202);
    const url = await page.$eval('[data-testid="challenge-url"]', (e) => e.textContent ?? '');
    const body = await page.$eval('[data-testid="challenge-body"]', (e) => e.textContent ?? '');
    expect(url.startsWith(`${origin.url}/.well-known/verity-challenge/`)).toBe(true);
    // Pressed too early: it says what is wrong and adds nothing.
    expect(await submit(page, 'ul.claims form button')).toBe(400);
    expect(await page.$eval('p.flash', (e) => e.textContent ?? '')).toContain('answered 404');
    origin.route(new URL(url).pathname, fixed(body));
    await submit(page, 'ul.claims form button');
    expect(await page.$eval('p.flash', (e) => e.textContent ?? '')).toBe('Site new.alice.test added.');
    expect(await texts(page, 'table.sites td:first-child')).toEqual(['new.alice.test', 'shop.alice.test']);

    // A join token for their site, from its page.
    await page.goto(`${cp.url}/sites/shop.alice.test`, { waitUntil: 'domcontentloaded' });
    expect(await submit(page, 'form.create-token button[type="submit"]')).toBe(201);
    const token = await page.$eval('[data-testid="new-token"]', (e) => e.textContent ?? '');
    expect(token).toMatch(/^vjt_/);
    const tokenSite = await db.pool.query<{ host: string; created_by: string }>('SELECT s.host, t.created_by FROM join_tokens t JOIN sites s ON s.id = t.site_id');
    expect(tokenSite.rows).toEqual([{ host: 'shop.alice.test', created_by: 'alice@example.org' }]);

    // Quarantine the node for this site only.
    await page.goto(`${cp.url}/sites/shop.alice.test`, { waitUntil: 'domcontentloaded' });
    await page.type(`tr[data-node-id="${node}"] input[name="reason"]`, 'prices doubled on /cart');
    await submit(page, `tr[data-node-id="${node}"] form.quarantine-for-site button`);
    expect(await page.$eval('p.flash', (e) => e.textContent ?? '')).toContain('quarantined for this site');
    expect(await page.$eval(`tr[data-node-id="${node}"]`, (e) => e.textContent ?? '')).toContain('quarantined here');
    const ex = await db.pool.query<{ host: string; actor: string }>('SELECT s.host, x.actor FROM site_node_exclusions x JOIN sites s ON s.id = x.site_id');
    expect(ex.rows).toEqual([{ host: 'shop.alice.test', actor: 'alice@example.org' }]);

    // Another owner's site: refused in the dashboard…
    const other = await page.goto(`${cp.url}/sites/blog.bob.test`, { waitUntil: 'domcontentloaded' });
    expect(other?.status()).toBe(403);
    expect(await page.$eval('main', (e) => e.textContent ?? '')).toContain('blog.bob.test is not one of your sites');
    expect((await page.goto(`${cp.url}/nodes/${node}`, { waitUntil: 'domcontentloaded' }))?.status()).toBe(403);
    // …and in the API, from the session and with an API token of theirs.
    const fromSession = await page.evaluate(async () => (await fetch('/api/v1/sites/blog.bob.test')).status);
    expect(fromSession).toBe(403);
    await page.goto(`${cp.url}/account`, { waitUntil: 'domcontentloaded' });
    await page.type('form[action="/account/tokens"] input[name="name"]', 'deploy');
    await submit(page, 'form[action="/account/tokens"] button');
    const apiToken = await page.$eval('[data-testid="new-api-token"]', (e) => e.textContent ?? '');
    const asAlice = (path: string, init: RequestInit = {}) => fetch(`${cp.url}${path}`, { ...init, headers: { authorization: `Bearer ${apiToken}`, 'content-type': 'application/json' } });
    expect((await asAlice('/api/v1/sites/blog.bob.test')).status).toBe(403);
    expect((await asAlice('/api/v1/tokens', { method: 'POST', body: JSON.stringify({ site: 'blog.bob.test' }) })).status).toBe(403);
    expect(((await (await asAlice('/api/v1/sites')).json()) as { host: string }[]).map((s) => s.host)).toEqual(['new.alice.test', 'shop.alice.test']);

    // The admin log names them, in their view and in the admin's.
    await page.goto(`${cp.url}/admin-log`, { waitUntil: 'domcontentloaded' });
    const rows = await page.$$eval('table.admin-log tbody tr', (trs) => trs.map((tr) => [tr.querySelector('.actor')?.textContent ?? '', tr.querySelector('.mono')?.textContent ?? '']));
    expect(rows).toContainEqual(['alice@example.org', 'site.node.quarantine']);
    expect(rows).toContainEqual(['alice@example.org', 'token.create']);
    expect(rows).toContainEqual(['alice@example.org', 'site.add']);
    const adminView = (await (await fetch(`${cp.url}/api/v1/admin-log`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json()) as { actor: string; action: string }[];
    expect(adminView).toContainEqual(expect.objectContaining({ actor: 'alice@example.org', action: 'session.login' }));
    expect(await watch.violations()).toEqual([]);
    await ctx.close();
  });
});

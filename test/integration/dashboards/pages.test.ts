import { describe, expect, it } from 'vitest';
import { tokenCreateProgram } from '../../../bin/commands/token.js';
import { dashboardPlugin, DASHBOARD_CSP } from '../../../dashboards/plugin.js';
import { startControlPlane } from '../../support/control-harness.js';
import { DASHBOARD_ADMIN_TOKEN, useDashboard } from '../../support/dashboard-scene.js';
import { csrfFrom, dashboardClient } from '../../support/dashboard-client.js';
import { useTestDatabase } from '../../support/db.js';
import { seedFleet } from '../../support/seed-fleet.js';
import { geoFact, judgeLocation } from '../../../balancer/geo/node-location.js';
import { recordIdentities } from '../../../common/db/queries/node-links.js';
import { saveLocationCheck } from '../../../common/db/queries/node-location.js';
import { recordTrustEvent } from '../../../common/db/queries/trust.js';

const ADMIN_TOKEN = DASHBOARD_ADMIN_TOKEN;
const db = useTestDatabase();
const scene = useDashboard(db);

const pages = ['/', '/nodes', '/audits', '/map', '/sites', '/admin-log', '/fragments/overview'];

describe('dashboard authentication', () => {
  it.each(pages)('%s without a session shows the login page with 401', async (path) => {
    const res = await fetch(`${scene.cp.url}${path}`);
    expect(res.status).toBe(401);
    expect(await res.text()).toContain('action="/login"');
  });

  it('htmx polls without a session get a redirect header, not a page', async () => {
    const res = await fetch(`${scene.cp.url}/fragments/overview`, { headers: { 'hx-request': 'true' } });
    expect(res.status).toBe(401);
    expect(res.headers.get('hx-redirect')).toBe('/login');
  });

  it('logs in with the admin token into an HttpOnly SameSite=Strict session stored hashed', async () => {
    const c = dashboardClient(scene.cp.url);
    const wrong = await c.login('not-the-token');
    expect(wrong.status).toBe(401);
    const res = await c.login(ADMIN_TOKEN);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/');
    const setCookie = res.headers.getSetCookie().find((l) => l.startsWith('verity_session='));
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(setCookie).toMatch(/Max-Age=\d+/);
    const value = c.cookies.get('verity_session') ?? '';
    const { rows } = await db.pool.query('SELECT id_hash, expires_at FROM sessions');
    expect(rows).toHaveLength(1);
    expect(Buffer.from(rows[0].id_hash).toString('utf8')).not.toContain(value);
    expect((await c.get('/')).status).toBe(200);
  });

  it('refuses a login without the form CSRF token or from another origin', async () => {
    const c = dashboardClient(scene.cp.url);
    await c.get('/login');
    expect((await c.postForm('/login', { token: ADMIN_TOKEN, _csrf: 'forged' })).status).toBe(403);
    const page = await (await c.get('/login')).text();
    expect((await c.postForm('/login', { token: ADMIN_TOKEN, _csrf: csrfFrom(page) }, { origin: 'http://evil.example' })).status).toBe(403);
    expect(c.cookies.has('verity_session')).toBe(false);
  });

  it('logs out: the session is deleted and pages ask for login again', async () => {
    const c = dashboardClient(scene.cp.url);
    await c.login(ADMIN_TOKEN);
    const html = await (await c.get('/nodes')).text();
    expect((await c.postForm('/logout', { _csrf: 'wrong' })).status).toBe(403);
    expect((await c.postForm('/logout', { _csrf: csrfFrom(html) })).status).toBe(303);
    expect((await db.pool.query('SELECT 1 FROM sessions')).rowCount).toBe(0);
    expect((await fetch(`${scene.cp.url}/nodes`, { headers: { cookie: 'verity_session=' + (c.cookies.get('verity_session') ?? 'x') } })).status).toBe(401);
  });

  it('slows down token guessing per address, and forgets after the window', async () => {
    let nowMs = Date.parse('2026-03-01T12:00:00Z');
    const own = await startControlPlane({ pool: db.pool, plugins: [dashboardPlugin], adminToken: ADMIN_TOKEN, now: () => nowMs });
    try {
      const c = dashboardClient(own.url);
      for (let i = 0; i < 10; i++) expect((await c.login(`guess-${i}`)).status).toBe(401);
      expect((await c.login(ADMIN_TOKEN)).status).toBe(429);
      nowMs += 5 * 60_000 + 1;
      expect((await c.login(ADMIN_TOKEN)).status).toBe(303);
    } finally {
      await own.close();
    }
  });

  it('accepts the bearer token on pages too', async () => {
    expect((await fetch(`${scene.cp.url}/nodes`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).status).toBe(200);
  });
});

describe('dashboard pages', () => {
  it('serves every page with the strict CSP, and hostile strings only as text', async () => {
    const hostile = '<script>window.__pwned=1</script><img src=x onerror=alert(1)>';
    const fleet = await seedFleet(db.pool, Date.now(), { hostileFragment: hostile, rogueName: `rogue <script>alert("name")</script>` });
    const c = dashboardClient(scene.cp.url);
    await c.login(ADMIN_TOKEN);
    for (const path of [...pages, `/nodes/${fleet.rogueId}`, `/audits/${fleet.tamperedAuditId}`, '/nodes?sort=traffic&dir=desc&status=active&q=paris']) {
      const res = await c.get(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-security-policy')).toBe(DASHBOARD_CSP);
      const html = await res.text();
      expect(html, path).not.toMatch(/<script>|<[^>]*onerror=|<img src=x/i);
      expect(html, path).not.toMatch(/ style="/);
    }
    const report = await (await c.get(`/audits/${fleet.tamperedAuditId}`)).text();
    expect(report).toContain('&lt;script&gt;window.__pwned=1&lt;/script&gt;');
    expect(report).toMatch(/data-kind="origin_screenshot"[\s\S]*data-kind="node_screenshot"[\s\S]*data-kind="diff_image"/);
    const rogue = await (await c.get(`/nodes/${fleet.rogueId}`)).text();
    expect(rogue).toContain('originSha256');
    expect(rogue).toContain('/static/app.js');
    const nodes = await (await c.get('/nodes?status=quarantined')).text();
    expect(nodes).toContain('rogue &lt;script&gt;alert(&quot;name&quot;)&lt;/script&gt;');
    expect(nodes).not.toContain('paris-fibre-01');
  });

  it('quarantines from the node page with CSRF and shows the trust event', async () => {
    const fleet = await seedFleet(db.pool, Date.now());
    const c = dashboardClient(scene.cp.url);
    await c.login(ADMIN_TOKEN);
    const html = await (await c.get(`/nodes/${fleet.healthyId}`)).text();
    const csrf = csrfFrom(html);
    expect((await c.postForm(`/nodes/${fleet.healthyId}/actions`, { action: 'quarantine', reason: 'x' })).status).toBe(403);
    const res = await c.postForm(`/nodes/${fleet.healthyId}/actions`, { action: 'quarantine', reason: 'suspicious cache', _csrf: csrf });
    expect(res.status).toBe(303);
    const after = await (await c.get(res.headers.get('location') ?? '')).text();
    expect(after).toContain('Node quarantined');
    expect(after).toContain('admin_quarantine');
    expect(after).toContain('suspicious cache');
  });

  it('refuses a node action without a reason, even when the form is sent without the browser\'s check', async () => {
    const fleet = await seedFleet(db.pool, Date.now());
    const c = dashboardClient(scene.cp.url);
    await c.login(ADMIN_TOKEN);
    const csrf = csrfFrom(await (await c.get(`/nodes/${fleet.healthyId}`)).text());
    const res = await c.postForm(`/nodes/${fleet.healthyId}/actions`, { action: 'ban', reason: '  ', _csrf: csrf });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/reason is required/);
    const { rows } = await db.pool.query("SELECT count(*)::int AS n FROM trust_events WHERE node_id = $1 AND kind = 'admin_ban'", [fleet.healthyId]);
    expect(rows[0].n).toBe(0);
  });

  it('offers the same token lifetime as the CLI, written with its unit, and refuses a bare number', async () => {
    await seedFleet(db.pool, Date.now());
    const c = dashboardClient(scene.cp.url);
    await c.login(ADMIN_TOKEN);
    const page = await (await c.get('/sites')).text();
    expect(page).toMatch(/name="ttl" value="24h"/);
    expect(tokenCreateProgram.options.ttl.default).toBe('24h');
    const bare = await c.postForm('/sites/tokens', { site: 'shop.example', uses: '1', ttl: '168', _csrf: csrfFrom(page) });
    expect(bare.status).toBe(400);
    expect(await bare.text()).toContain('&quot;168&quot; has no unit: write 168s, 168m, 168h or 168d');
    expect((await db.pool.query('SELECT 1 FROM join_tokens')).rowCount).toBe(0);
  });

  it('explains the trust model, the location check and the linked nodes on the node page', async () => {
    const fleet = await seedFleet(db.pool, Date.now());
    const id = fleet.healthyId;
    const other = [...fleet.nodeIds.values()].find((n) => n !== id && n !== fleet.rogueId) ?? '';
    const check = judgeLocation({ lat: 50.11, lon: 8.68 }, { connect: geoFact('81.2.69.142'), url: [] }, []);
    await saveLocationCheck(db.pool, id, check, new Date());
    for (const n of [id, other]) await recordIdentities(db.pool, n, { publicUrl: 'http://198.51.100.30:8090', address: null }, new Date());
    await recordTrustEvent(db.pool, id, { kind: 'audit_tampered', severity: 'high', confirmation: 'unconfirmed', reason: 'ad script URL changed' });
    const c = dashboardClient(scene.cp.url);
    await c.login(ADMIN_TOKEN);
    const html = await (await c.get(`/nodes/${id}`)).text();
    expect(html).toContain('Trust model');
    expect(html).toMatch(/0 confirmed or unambiguous findings, 1 unconfirmed/);
    expect(html).toContain('Location check <span class="badge status-failed">failed</span>');
    expect(html).toContain('declared location ignored: GeoIP puts 81.2.69.142 in GB');
    expect(html).toContain('GB · 51.8°N 0.3°W');
    expect(html).toContain(`href="/nodes/${other}"`);
    expect(html).toContain('shares public URL http://198.51.100.30:8090');
    expect(html).toContain('unconfirmed');
  });

  it('creates a join token once and revokes it', async () => {
    await seedFleet(db.pool, Date.now());
    const c = dashboardClient(scene.cp.url);
    await c.login(ADMIN_TOKEN);
    const csrf = csrfFrom(await (await c.get('/sites')).text());
    const created = await c.postForm('/sites/tokens', { site: 'shop.example', uses: '3', ttl: '24h', _csrf: csrf });
    expect(created.status).toBe(201);
    const page = await created.text();
    const token = /data-testid="new-token">(vjt_[A-Za-z0-9_-]+)</.exec(page)?.[1];
    expect(token).toBeDefined();
    expect(await (await c.get('/sites')).text()).not.toContain(token);
    const { rows } = await db.pool.query('SELECT id FROM join_tokens');
    expect((await c.postForm(`/tokens/${rows[0].id}/revoke`, { _csrf: csrf })).status).toBe(303);
    expect(await (await c.get('/sites')).text()).toContain('revoked');
    const log = await (await c.get('/admin-log')).text();
    expect(log).toContain('token.create');
    expect(log).toContain('token.revoke');
  });

  it('queues a rescan from the report', async () => {
    const fleet = await seedFleet(db.pool, Date.now());
    const c = dashboardClient(scene.cp.url);
    await c.login(ADMIN_TOKEN);
    const csrf = csrfFrom(await (await c.get(`/audits/${fleet.tamperedAuditId}`)).text());
    const res = await c.postForm(`/audits/${fleet.tamperedAuditId}/rescan`, { _csrf: csrf });
    expect(res.status).toBe(303);
    const { rows } = await db.pool.query("SELECT node_id FROM audits WHERE reason = 'rescan'");
    expect(rows).toEqual([{ node_id: fleet.rogueId }]);
  });

  it('shows empty states that say what to do', async () => {
    const c = dashboardClient(scene.cp.url);
    await c.login(ADMIN_TOKEN);
    expect(await (await c.get('/nodes')).text()).toContain('verity node --balancer URL --token TOKEN');
    expect(await (await c.get('/sites')).text()).toContain('verity site add');
  });

  it('serves vendor assets locally', async () => {
    for (const a of ['/assets/vendor/htmx.min.js', '/assets/vendor/uPlot.iife.min.js', '/assets/vendor/uPlot.min.css', '/assets/app.js', '/assets/app.css']) {
      expect((await fetch(`${scene.cp.url}${a}`)).status, a).toBe(200);
    }
    expect((await fetch(`${scene.cp.url}/assets/../package.json`)).status).toBe(404);
  });
});
